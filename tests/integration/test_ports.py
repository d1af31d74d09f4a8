"""Port conflicts are refused before anything starts, naming the holder; stacks run side by side."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from lab import engine, errors, harden, inventory, portplan, stack
from lab.readiness import probe_all
from tests.integration.conftest import dynamic_ports, free_ports, new_project, stop
from tests.integration.names import container_names

pytestmark = pytest.mark.integration


def lab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=600)


def port_flags(p) -> list[str]:
    return [f"--port={s}={port}" for s, port in p.ports.items()]


CASES = [
    ("tcp", "127.0.0.1", "redis"),
    ("udp", "127.0.0.1", "echo"),
    ("tcp", "::1", "postgres"),
    ("udp", "::1", "echo"),
    ("tcp", "0.0.0.0", "api"),
]


@pytest.mark.parametrize("proto, host, service", CASES, ids=[f"{p}-{h}" for p, h, _ in CASES])
def test_a_held_port_is_refused_before_anything_starts(engine_ok, proto, host, service):
    p = new_project("labtest-held")
    if ":" in host and not p.ipv6:
        pytest.skip("skipped: this host has no IPv6 loopback")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as held:
        held.bind((host, p.ports[service]))
        if proto == "tcp":
            held.listen()
        out = lab("up", "--project", p.name, *port_flags(p))
    try:
        if ":" in host and not engine.kind().v6_to_v4:  # Podman: lab publishes on 127.0.0.1 only, and says so
            assert out.returncode == 0, out.stderr
            assert "cannot carry [::1] to an IPv4-only container: publishing on 127.0.0.1 only" in out.stderr
            return
        assert out.returncode == 1, out.stderr
        first = out.stderr.splitlines()[0]
        assert first.startswith(
            f"lab: error: {service}: {proto}/{host}:{p.ports[service]} is already in use by pid {os.getpid()}"
        )
        assert f"lab up --port {service}=" in out.stderr and f"--project {p.name}" in out.stderr
        assert container_names(p.name) == []
    finally:
        stop(p)  # and its state: nothing is left whether it started or not


@pytest.mark.parametrize(
    "flag, message",
    [
        ("--port=redis=0", "redis: port 0 is out of range"),
        ("--port=redis=70000", "redis: port 70000 is out of range"),
        ("--port=redis=abc", "'abc' is not a number"),
        ("--port=nosuch=7000", "unknown service 'nosuch'"),
    ],
)
def test_bad_port_values_are_refused_with_nothing_created(engine_ok, flag, message):
    name = "labtest-bad-values"
    out = lab("up", "--project", name, flag)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert container_names(name) == []


def test_two_services_on_one_port_are_refused(engine_ok):
    out = lab("up", "--project", "labtest-dup", "--port=redis=47001", "--port=postgres=47001")
    assert out.returncode == 2 and "redis and postgres both want host port 47001" in out.stderr
    assert container_names("labtest-dup") == []


def test_the_bind_race_names_the_holder_and_leaves_nothing(engine_ok, monkeypatch):
    """Someone binds between our check and compose's bind: compose fails, we still name them."""
    p = new_project("labtest-race")
    monkeypatch.setattr(portplan, "refuse_held", lambda project, mine: None)  # lose the race on purpose
    with socket.socket() as held:
        held.bind(("127.0.0.1", p.ports["api"]))
        held.listen()
        try:
            with pytest.raises(
                errors.PortInUse,
                match=rf"api: 127.0.0.1:{p.ports['api']} is already in use by "
                rf"pid {os.getpid()}",
            ):
                stack.up(p, timeout=120)
            assert container_names(p.name) == []
        finally:
            stop(p)


@pytest.fixture(scope="module")
def beside(lab_stack):
    """A second stack beside the session's, started as a user would (`lab up --dynamic-ports`): the tests
    below share it, and the last one takes it down."""
    b = new_project("labtest-b")
    try:
        with dynamic_ports():
            out = lab("up", "--project", b.name, "--dynamic-ports")
        assert out.returncode == 0, out.stdout + out.stderr
        yield b
    finally:
        stop(b)


def test_side_by_side_stacks_verify_independently(lab_stack, beside):
    b = beside
    env = json.loads(lab("env", "--project", b.name, "--format", "json").stdout)
    recorded = json.loads((b.state_dir / "state.json").read_text())["ports"]
    assert all(49152 <= port <= 65535 for port in recorded.values())
    assert env["API_URL"] == f"http://127.0.0.1:{recorded['api']}"
    # Each recorded port is really b's: published by b's own container.
    behind = portplan.ports.publishers()
    for service, port in recorded.items():
        assert behind[(port, "tcp")] == (f"{b.name}-{service}-1", b.name)
    for name in (b.name, lab_stack.project.name):
        assert lab("verify", "--project", name).returncode == 0


def test_each_project_keeps_its_own_rules(lab_stack, beside, hardened):
    a = lab_stack.project
    mine = harden.tagged(a.name)
    assert len(mine) == len(harden.network_rules(a.name, inventory.networks(a.name))) >= 1
    theirs = harden.tagged(beside.name)
    assert theirs and not set(map(str, theirs)) & set(map(str, mine))


def test_down_removes_only_its_own_stack_and_rules(lab_stack, beside):
    a = lab_stack.project
    mine = harden.tagged(a.name)
    assert lab("down", "--project", beside.name, "--volumes").returncode == 0
    assert container_names(beside.name) == []
    assert harden.tagged(beside.name) == []
    assert harden.tagged(a.name) == mine
    assert [r for r in probe_all(a.endpoints(), a.credentials()) if not r.ok] == []
    assert lab("verify", "--project", a.name).returncode == 0


def test_doctor_passes_here_and_names_a_holder(engine_ok):
    p = new_project("labtest-doctor")
    p.save()
    try:
        ok = lab("doctor", "--project", p.name)
        assert ok.returncode == 0, ok.stdout
        assert re.search(r"^compose +ok +v2\.", ok.stdout, re.M), ok.stdout
        assert re.search(r"^direct routing +ok +nothing to reach", ok.stdout, re.M), ok.stdout
        with socket.socket() as held:
            held.bind(("127.0.0.1", p.ports["postgres"]))
            held.listen()
            bad = lab("doctor", "--project", p.name)
        assert bad.returncode == 1
        assert f"postgres: tcp/127.0.0.1:{p.ports['postgres']} held by pid {os.getpid()}" in bad.stdout
    finally:
        p.forget_all()


def test_lab_ports_names_loopback_and_exposed_listeners(engine_ok):
    with socket.socket() as lo, socket.socket() as wild:
        lo.bind(("127.0.0.1", 0))
        lo.listen()
        wild.bind(("0.0.0.0", 0))
        wild.listen()
        a, b = lo.getsockname()[1], wild.getsockname()[1]
        [free] = free_ports(1)
        out = lab("ports", str(a), str(b), str(free))
    assert out.returncode == 0
    rows = {line.split()[0]: line for line in out.stdout.splitlines()[1:]}
    assert "loopback only" in rows[str(a)] and f"pid {os.getpid()}" in rows[str(a)]
    assert "EXPOSED (all interfaces)" in rows[str(b)]
    assert "unused" in rows[str(free)]
