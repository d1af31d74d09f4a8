"""The engine host's own dockerd, started again with other options (tests only).

In an engine host (`.ci/engine-host`, `make test ENGINE=docker28`) dockerd runs under a loop that starts it
again whenever it exits, reading /etc/default/lab-dockerd and /etc/docker/daemon.json afresh: stopping it
is that host's `systemctl restart docker`. The tests that need an engine started with another option
(the opt-outs that re-open what Docker 28's own rules close) use it. It restarts the engine, so the
suite's runner calls those tests alone, after the rest: `LAB_ENGINE_HOST` names the host then, and
elsewhere they skip, saying so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from tests.waiting import wait_for

ENVIRONMENT = Path("/etc/default/lab-dockerd")
DAEMON_JSON = Path("/etc/docker/daemon.json")
PIDFILE = Path("/run/docker.pid")


def skip_unless_restartable() -> None:
    if os.environ.get("LAB_ENGINE_HOST") != "docker28" or not PIDFILE.exists():
        pytest.skip(
            "skipped: needs a Docker engine the tests may restart with other options: an engine host, "
            "`make test ENGINE=docker28` (which runs these after the rest of the suite)"
        )


def _pid() -> int | None:
    try:
        return int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None


def _restart(bound: float = 120) -> None:
    """Stop dockerd; the host's loop starts it again. Return once a new one answers (bounded: a hang)."""
    old = _pid()
    assert old, "no dockerd pid in the engine host"
    os.kill(old, 15)

    def answers() -> bool:
        new = _pid()
        return bool(new and new != old) and docker.from_env(timeout=5).ping()

    what = "a new dockerd answering (docker logs lab-host-docker28)"
    wait_for(answers, bound, what, interval=0.2, tolerate=(docker.errors.DockerException,))


def _put(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@contextmanager
def engine_started_with(environment: dict[str, str] | None = None, daemon: dict | None = None) -> Iterator[None]:
    """The engine as started with `environment` (dockerd's) and `daemon` (daemon.json keys); put back after."""
    skip_unless_restartable()
    saved = {p: p.read_text() if p.exists() else None for p in (ENVIRONMENT, DAEMON_JSON)}
    if environment:
        _put(ENVIRONMENT, "".join(f"{k}={v}\n" for k, v in environment.items()))
    if daemon:
        _put(DAEMON_JSON, json.dumps({**json.loads(saved[DAEMON_JSON] or "{}"), **daemon}))
    try:
        _restart()
        yield
    finally:
        for path, text in saved.items():
            _put(path, text)
        _restart()
