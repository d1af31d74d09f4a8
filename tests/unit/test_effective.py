"""The effective config through the real Compose, asked again only when an input changed."""

from __future__ import annotations

import pytest

from lab import effective
from lab.compose_cli import Compose, find_compose
from lab.errors import ComposeNotFound

FILE = 'services:\n  web:\n    image: nginx\n    ports: ["127.0.0.1:${WEB_PORT}:80"]\n'


class Asked(list):
    def forget(self) -> None:
        """As a new process: nothing in memory."""
        effective._CONFIGS.clear()


@pytest.fixture
def asked(tmp_path, monkeypatch):
    """Compose's own `config`, counted; a fresh process each time `forget()` is called (memory emptied),
    the disk cache in a temporary home."""
    try:
        find_compose()
    except ComposeNotFound as exc:
        pytest.skip(f"skipped: {exc} (`make setup` installs it)")
    monkeypatch.setenv("LAB_CACHE_HOME", str(tmp_path / "cache"))
    calls = Asked()
    real = Compose.run

    def counted(self, *args, **kwargs):
        calls.append(list(args))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Compose, "run", counted)
    monkeypatch.setattr(effective, "_CONFIGS", {})
    return calls


def _compose(folder, text: str = FILE, port: str = "8080") -> Compose:
    (folder / "compose.yaml").write_text(text)
    return Compose(find_compose()[0], "t", [folder / "compose.yaml"], {"WEB_PORT": port}, cwd=folder)


def test_a_second_process_reads_the_config_from_disk_until_an_input_changes(tmp_path, asked):
    first = effective.effective_config(_compose(tmp_path))
    assert first["services"]["web"]["ports"][0]["published"] == "8080" and len(asked) == 1
    asked.forget()
    assert effective.effective_config(_compose(tmp_path)) == first and len(asked) == 1  # from disk
    asked.forget()
    other = effective.effective_config(_compose(tmp_path, port="8081"))  # an interpolated variable changed
    assert other["services"]["web"]["ports"][0]["published"] == "8081" and len(asked) == 2
    asked.forget()
    (tmp_path / ".env").write_text("UNUSED=1\n")  # the .env Compose reads: an input too
    effective.effective_config(_compose(tmp_path, port="8081"))
    assert len(asked) == 3
    kept = list((tmp_path / "cache" / "configs").glob("*.json"))
    assert len(kept) == 3 and all(p.stat().st_mode & 0o777 == 0o600 for p in kept)


def test_files_that_read_others_are_asked_every_time(tmp_path, asked):
    (tmp_path / "web.env").write_text("A=1\n")
    text = FILE + "    env_file: [web.env]\n"
    effective.effective_config(_compose(tmp_path, text))
    asked.forget()
    (tmp_path / "web.env").write_text("A=2\n")
    again = effective.effective_config(_compose(tmp_path, text))
    assert again["services"]["web"]["environment"]["A"] == "2" and len(asked) == 2
    assert effective.disk_key_of(_compose(tmp_path, text)) is None
