"""Integration fixtures: real stacks on the real engine, isolated by project name and free ports.

Every stack here has its own project (`labtest-...`) and ports from the dynamic range,
never the defaults, so a stack someone left running is untouched. Teardown runs in a
`finally`, volumes and credentials included.

`make test` runs these files in two processes (pytest-xdist, `-n 2 --dist loadfile`). What keeps them apart:
each process picks its free ports from its own share of the range (`free_ports`); every test holds the
host lock shared, and a test marked `host_exclusive` (it changes or counts what is host-wide: lab's
loopback rules, the engine's raw rules, the FORWARD policy, the probes' namespaces) holds it alone; the
loopback rules a run added are removed once, by the process that started the run (`pytest_unconfigure`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab import connenv, engine, enginefacts, harden, hostnet, ports, stack
from lab import project as projects
from lab.catalogue import SERVICES
from lab.errors import LabError

pytestmark = pytest.mark.integration
PREFIX = "labtest-"  # every project these tests make; nothing else on the engine uses it
STALE = 3600  # s: older than any test session (a killed run's leftovers)
PORTS = (20000, 45000)  # the free ports tests pick from, up to the kernel's ephemeral range (free_ports)
LOCK_WAIT = 900.0  # s: the longest a test waits for the host lock (pytest's own timeout per test)
ABSENT = pytest.StashKey[list]()
# The files that take longest, longest first (--durations, summed per file): xdist hands out whole files in
# the order collected, and a long one handed out last is the run's tail while the other worker idles.
LONGEST = (
    "test_faults.py",
    "test_state.py",
    "test_distribution.py",
    "test_stack.py",
    "test_foreign.py",
    "test_api_fuzz.py",
    "test_verify.py",
    "test_ports.py",
    "test_pytest_plugin.py",
    "test_bad_input.py",
)


def pytest_configure(config):
    """Integration runs never touch the user's own state: a temporary state home for the session (one per
    process under xdist). The process that started the run notes which of lab's loopback rules the host
    lacks, to remove them when the whole run is over (`pytest_unconfigure`)."""
    os.environ["LAB_STATE_HOME"] = tempfile.mkdtemp(prefix="lab-test-state-")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run in one process
        config.stash[ABSENT] = [] if harden.can_harden() else harden.missing(list(harden.LOOPBACK))


def pytest_unconfigure(config):
    """Stacks started here add lab's loopback rules, as `lab up` does (their network rules go with `down`):
    the run leaves the host's raw table as it found it. Only the process that started the run does this,
    after every worker has ended: a worker that finished first must not pull the rules from under another."""
    shutil.rmtree(os.environ.get("LAB_STATE_HOME", ""), ignore_errors=True)
    absent = config.stash.get(ABSENT, [])
    if absent:
        harden.delete(absent)


def pytest_collection_modifyitems(config, items):
    """Under xdist, the longest files first; in one process, the files' own order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: i for i, name in enumerate(LONGEST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST)))  # stable: a file's tests keep theirs


@contextlib.contextmanager
def lock_file(name: str) -> Iterator[tuple[int, str]]:
    """A lock file every user of the host can open (read-only is enough for flock; /run/lock is 1777), as
    (descriptor, path); closing it lets go of any lock held on it."""
    folder = "/run/lock" if os.access("/run/lock", os.W_OK) else tempfile.gettempdir()
    path = os.path.join(folder, name)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        yield fd, path
    finally:
        os.close(fd)


def take(lock: tuple[int, str], mode: int, bound: float = LOCK_WAIT) -> None:
    """Take `mode` on `lock`, waiting at most `bound` s for whoever holds it (polled: no signal of its own
    to share with pytest-timeout's)."""
    fd, path = lock
    deadline = time.monotonic() + bound
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"{path} still held by another test process after {bound:.0f} s")
            time.sleep(0.05)


@contextlib.contextmanager
def host_lock(exclusive: bool) -> Iterator[None]:
    """The host lock: shared by every integration test, held alone by one marked `host_exclusive`. A test
    waiting to hold it alone holds the gate meanwhile, so tests asking for it shared after it queue behind
    it: it is never starved by their overlapping turns."""
    with lock_file("lab-test-host.gate") as gate, lock_file("lab-test-host.lock") as lock:
        take(gate, fcntl.LOCK_EX)
        try:
            take(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate[0], fcntl.LOCK_UN)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """The lock spans the test's setup and teardown, fixtures of wider scope included (a session stack
    started or stopped there adds or removes firewall rules too)."""
    if Path(__file__).parent not in Path(item.path).parents:  # `pytest tests`: the unit tests need no lock
        return (yield)
    with host_lock(exclusive(item)):
        return (yield)


def exclusive(item: pytest.Item) -> bool:
    """Marked `host_exclusive`; with `engine_rules=True`, only where the engine keeps raw rules of its own
    (Docker 28, read from the table): `without_engine_rules` then takes its loopback ones away too."""
    mark = item.get_closest_marker("host_exclusive")
    if mark is None:
        return False
    if mark.kwargs.get("engine_rules"):
        return any(d.owner == "engine" for d in enginefacts.raw_drops())
    return True


@contextlib.contextmanager
def dynamic_ports() -> Iterator[None]:
    """Around a `lab up --dynamic-ports` that publishes: lab picks from one range (portplan.DYNAMIC) whichever
    process asks, so two test processes must not pick and publish at the same time."""
    with lock_file("lab-test-dynamic-ports.lock") as lock:
        take(lock, fcntl.LOCK_EX)
        yield


def free_ports(count: int, protocols=("tcp", "udp"), hosts=("127.0.0.1",), avoid: set[int] | None = None) -> list[int]:
    """Free ports from this process's share of PORTS: under xdist each worker has its own, so two processes
    never pick the same port between its check and its publishing. Below the kernel's ephemeral range."""
    low, high = PORTS
    with contextlib.suppress(OSError, ValueError):
        high = min(high, int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) - 1)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    share = (high - low + 1) // max(workers, 1)
    low += share * worker
    return ports.pick_free(count, protocols, hosts, low=low, high=low + share - 1, avoid=avoid)


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
    chosen = free_ports(len(SERVICES), ("tcp", "udp"), p.hosts)
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


@pytest.fixture(scope="session")
def hardened(engine_ok):
    """lab's loopback rules in place, as `lab up` leaves them (each stack's network rules come with
    `stack.up`)."""
    if harden.can_harden():
        pytest.skip(f"skipped: cannot harden ({harden.can_harden()})")
    harden.apply(list(harden.LOOPBACK))
