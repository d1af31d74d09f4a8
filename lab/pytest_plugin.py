"""pytest fixtures for users' own tests: `pip install` this project and use them (entry point `pytest11`).

    def test_cache(redis_url):
        assert redis.Redis.from_url(redis_url).ping()

- `lab_stack` (session): an isolated project (`labpt-…`) on dynamic ports, started once and torn down
  (volumes and credentials included) in a `finally`; with `--lab-project NAME` a running project is used
  as it is and left running.
- `redis_url`, `database_url`, `api_url`, `echo_tcp`, `echo_udp`: what `lab env` prints for it.
- `lab_verified`: the stack's `lab verify` passed (the tests that use it fail, naming the failing checks).

Under pytest-xdist every worker shares one stack: the first creates it, the last one out removes it
(a lock file and a reference count in the session's shared temporary folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

PREFIX = "labpt"


@dataclass(frozen=True)
class LabStack:
    project: str
    env: dict[str, str]  # as `lab env --format json` prints it
    owned: bool  # created by this session (and removed by it)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("lab").addoption(
        "--lab-project", default=None, metavar="NAME", help="use this running lab project instead of starting one"
    )


@contextmanager
def _locked(path: Path) -> Iterator[dict]:
    """The shared state file, read and written under an exclusive lock."""
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {}
        try:
            yield state
        finally:
            path.write_text(json.dumps(state))
            fcntl.flock(lock, fcntl.LOCK_UN)


def _env(name: str) -> dict[str, str]:
    from lab import connenv
    from lab import project as projects

    p = projects.load(name)
    creds = p.credentials()
    if creds is None:
        raise pytest.UsageError(f"lab project {name} has no credentials: start it with `lab up --project {name}`")
    return connenv.settings(p, creds)


def _start() -> str:
    from lab import portplan, stack
    from lab import project as projects

    p = projects.load(f"{PREFIX}-{secrets.token_hex(3)}")
    portplan.apply(p, [], dynamic=True)
    stack.up(p)
    return p.name


def _stop(name: str) -> None:
    from lab import project as projects
    from lab import stack
    from lab.errors import LabError

    p = projects.load(name)
    with suppress(LabError):
        stack.down(p, volumes=True)
    p.forget_all()


@pytest.fixture(scope="session")
def lab_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabStack]:
    named = request.config.getoption("--lab-project")
    if named:
        yield LabStack(named, _env(named), owned=False)
        return
    # Under xdist each worker has its own basetemp; their parent is the session's, shared by all.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    state_file = shared / "lab-stack.json"
    with _locked(state_file) as state:
        if not state.get("project"):
            state.update(project=_start(), users=0)
        state["users"] += 1
        name = state["project"]
    try:
        yield LabStack(name, _env(name), owned=True)
    finally:
        with _locked(state_file) as state:
            state["users"] -= 1
            last = state["users"] == 0
            if last:
                state["project"] = ""
        if last:
            _stop(name)


@pytest.fixture(scope="session")
def redis_url(lab_stack: LabStack) -> str:
    return lab_stack.env["REDIS_URL"]


@pytest.fixture(scope="session")
def database_url(lab_stack: LabStack) -> str:
    return lab_stack.env["DATABASE_URL"]


@pytest.fixture(scope="session")
def api_url(lab_stack: LabStack) -> str:
    return lab_stack.env["API_URL"]


@pytest.fixture(scope="session")
def echo_tcp(lab_stack: LabStack) -> str:
    return lab_stack.env["ECHO_TCP"]


@pytest.fixture(scope="session")
def echo_udp(lab_stack: LabStack) -> str:
    return lab_stack.env["ECHO_UDP"]


@pytest.fixture(scope="session")
def lab_verified(lab_stack: LabStack) -> LabStack:
    from lab import project as projects
    from lab import verify
    from lab.verify.checks import Status

    report = verify.run(projects.load(lab_stack.project))
    failing = [f"{c.name} {c.target}: {c.detail}" for c in report.checks if c.status == Status.FAIL]
    if failing:
        pytest.fail(f"lab verify failed for {lab_stack.project}: " + "; ".join(failing), pytrace=False)
    return lab_stack
