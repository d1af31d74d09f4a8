"""Integration fixtures: real stacks on the real engine, isolated by project name and free ports.

Every stack here has its own project (`labtest-...`) and ports from the dynamic range,
never the defaults, so a stack someone left running is untouched. Teardown runs in a
`finally`, volumes and credentials included.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from lab import connenv, engine, harden, hostnet, ports, stack
from lab import project as projects
from lab.catalogue import SERVICES
from lab.errors import LabError

pytestmark = pytest.mark.integration
PREFIX = "labtest-"  # every project these tests make; nothing else on the engine uses it
STALE = 3600  # s: older than any test session (a killed run's leftovers)


def pytest_configure(config):
    """Integration runs never touch the user's own state: a temporary state home for the session."""
    os.environ["LAB_STATE_HOME"] = tempfile.mkdtemp(prefix="lab-test-state-")


def pytest_unconfigure(config):
    shutil.rmtree(os.environ.get("LAB_STATE_HOME", ""), ignore_errors=True)


def remove_leftovers(now: float | None = None, prefix: str = PREFIX) -> list[str]:
    """Projects `labtest-…` whose containers are all older than STALE: a killed run's. Removed with their
    networks, volumes and firewall rules; a session running beside this one is younger and kept."""
    cli = engine.client()
    label = "com.docker.compose.project"
    now = now or time.time()
    ages: dict[str, float] = {}
    for c in cli.containers.list(all=True, filters={"label": label}, ignore_removed=True):
        name = c.labels.get(label, "")
        if name.startswith(prefix):
            created = datetime.fromisoformat(c.attrs["Created"][:19]).replace(tzinfo=UTC).timestamp()
            ages[name] = min(ages.get(name, now), now - created)
    stale = sorted(n for n, age in ages.items() if age > STALE)
    for name in stale:
        mine = {"label": f"{label}={name}"}
        for c in cli.containers.list(all=True, filters=mine, ignore_removed=True):
            c.remove(force=True)
        for n in cli.networks.list(filters=mine):
            n.remove()
        for v in cli.volumes.list(filters=mine):
            v.remove(force=True)
        if not harden.can_harden():
            harden.remove(name)
    return stale


@dataclass
class Stack:
    project: projects.Project
    env: dict[str, str]


def new_project(prefix: str = "labtest") -> projects.Project:
    assert prefix.startswith(PREFIX.rstrip("-"))
    p = projects.Project(f"{prefix}-{secrets.token_hex(3)}", ipv6=hostnet.has_ipv6_loopback())
    chosen = ports.pick_free(len(SERVICES), ("tcp", "udp"), p.hosts, low=20000, high=45000)
    p.ports = {s.name: port for s, port in zip(SERVICES, chosen, strict=True)}
    return p


def start(p: projects.Project) -> Stack:
    stack.up(p, timeout=240)
    return Stack(p, connenv.settings(p, p.credentials()))


def stop(p: projects.Project) -> None:
    with contextlib.suppress(LabError):
        stack.down(p, volumes=True)
    p.forget_all()


@pytest.fixture(scope="session")
def engine_ok():
    try:
        engine.client()
    except LabError as exc:
        pytest.fail(f"integration tests need the Docker engine: {exc}")
    for name in remove_leftovers():
        print(f"removed leftover test project {name}")


@pytest.fixture(scope="session")
def lab_stack(engine_ok):
    """One full stack for the session."""
    p = new_project()
    try:
        yield start(p)
    finally:
        stop(p)


@pytest.fixture(scope="session", autouse=True)
def firewall_as_found():
    """Stacks started here add lab's loopback rules, as `lab up` does (their network rules go with
    `down`): leave the host's raw table as the session found it."""
    absent = [] if harden.can_harden() else harden.missing(list(harden.LOOPBACK))
    yield
    if absent:
        harden.delete(absent)


@pytest.fixture(scope="session")
def hardened(engine_ok):
    """lab's loopback rules in place, as `lab up` leaves them (each stack's network rules come with
    `stack.up`)."""
    if harden.can_harden():
        pytest.skip(f"skipped: cannot harden ({harden.can_harden()})")
    harden.apply(list(harden.LOOPBACK))
