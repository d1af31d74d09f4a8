import json
import stat

import pytest

from lab import credentials
from lab import project as projects
from lab.errors import UsageError


def test_names_are_validated():
    assert projects.check_name("lab-test_1") == "lab-test_1"
    for bad in ("", "Lab", "-x", "a b", "a/b", "x" * 64):
        with pytest.raises(UsageError, match="invalid project name"):
            projects.check_name(bad)


def test_endpoints_cover_both_families_and_protocols(tmp_path):
    p = projects.Project("t", tmp_path, ipv6=True, state_root=tmp_path / "state")
    got = {str(e) for e in p.endpoints("echo")}
    assert got == {"tcp/127.0.0.1:65432", "udp/127.0.0.1:65432", "tcp/[::1]:65432", "udp/[::1]:65432"}
    assert [f.name for f in p.files] == ["compose.yaml", "compose.ipv6.yaml"]
    assert [f.name for f in projects.Project("t", tmp_path, ipv6=False).files] == ["compose.yaml"]


def test_state_round_trip_and_dotenv_for_the_default_project(tmp_path):
    p = projects.Project("lab", tmp_path, ipv6=True, state_root=tmp_path / "state")
    p.ports["redis"] = 16379
    p.save()
    loaded = projects.load("lab", tmp_path, tmp_path / "state")
    assert loaded.ports["redis"] == 16379 and loaded.ipv6 is projects.hostnet.has_ipv6_loopback()
    dotenv = (tmp_path / ".env").read_text()
    assert "COMPOSE_FILE=compose.yaml:compose.ipv6.yaml\n" in dotenv and "LAB_REDIS_PORT=16379\n" in dotenv
    p.forget_ports()
    assert (
        not (tmp_path / ".env").exists() and projects.load("lab", tmp_path, tmp_path / "state").ports["redis"] == 6379
    )


def test_a_users_own_dotenv_is_left_alone(tmp_path):
    (tmp_path / ".env").write_text("MINE=1\n")
    p = projects.Project("lab", tmp_path, state_root=tmp_path / "state")
    p.save()
    p.forget_ports()
    assert (tmp_path / ".env").read_text() == "MINE=1\n"


def test_named_projects_do_not_write_dotenv(tmp_path):
    projects.Project("b", tmp_path, state_root=tmp_path / "state").save()
    assert not (tmp_path / ".env").exists()
    assert json.loads((tmp_path / "state/b/state.json").read_text())["ports"]["api"] == 5000


def test_credentials_are_random_private_and_stable(tmp_path):
    folder = tmp_path / "secrets"
    first = credentials.ensure(folder)
    assert credentials.ensure(folder) == first
    assert first.redis_password != first.postgres_password and len(first.redis_password) >= 32
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in credentials.NAMES:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644  # inside the 0700 folder
    other = credentials.ensure(tmp_path / "other")
    assert other.redis_password != first.redis_password


@pytest.mark.parametrize("text", ['{"ports": []}', '{"ports": {"redis": "x"}}', "not json"])
def test_a_corrupt_state_file_is_a_one_line_error(tmp_path, text):
    (tmp_path / "state/t").mkdir(parents=True)
    (tmp_path / "state/t/state.json").write_text(text)
    with pytest.raises(UsageError, match="corrupt state file"):
        projects.load("t", tmp_path, tmp_path / "state")


def test_a_vanished_override_is_dropped_with_a_warning(tmp_path, capsys):
    p = projects.Project("t", tmp_path, state_root=tmp_path / "state", overrides=[tmp_path / "gone.yaml"])
    p.save()
    assert projects.load("t", tmp_path, tmp_path / "state").overrides == []
    assert "gone.yaml recorded for t is gone" in capsys.readouterr().err


def test_state_is_per_user_not_per_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv("LAB_STATE_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert projects.Project("x").state_dir == tmp_path / "lab" / "x"
    monkeypatch.setenv("LAB_STATE_HOME", "/elsewhere")
    assert projects.state_home() == projects.Path("/elsewhere")
