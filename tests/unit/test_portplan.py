import re

import pytest

from lab import errors, portplan
from lab import project as projects
from lab.errors import UsageError


@pytest.mark.parametrize(
    "chosen, message",
    [
        ({"redis": 0}, "redis: port 0 is out of range"),
        ({"redis": 65536}, "redis: port 65536 is out of range"),
        ({"redis": 7000, "postgres": 7000}, "redis and postgres both want host port 7000"),
    ],
)
def test_bad_values_are_refused(chosen, message):
    with pytest.raises(UsageError, match=message):
        portplan.validate(chosen)


def test_privileged_port_without_rights(monkeypatch):
    monkeypatch.setattr(portplan.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(portplan, "_unprivileged_start", lambda: 1024)
    with pytest.raises(UsageError, match=r"api: port 80 is privileged \(< 1024\) and lab is not root"):
        portplan.validate({"api": 80})
    portplan.validate({"api": 1024})


def test_root_may_use_privileged_ports(monkeypatch):
    monkeypatch.setattr(portplan.os, "geteuid", lambda: 0)
    portplan.validate({"api": 80})


def test_dynamic_ports_are_distinct_in_range_and_port_flags_win(tmp_path):
    p = projects.Project("t", tmp_path, ipv6=False)
    portplan.apply(p, ["api=18080"], dynamic=True)
    assert p.ports["api"] == 18080
    others = [v for k, v in p.ports.items() if k != "api"]
    assert len(set(others)) == 3 and all(49152 <= v <= 65535 for v in others)


def test_port_flag_replaces_the_default(tmp_path):
    p = projects.Project("t", tmp_path)
    portplan.apply(p, ["redis=16379"], dynamic=False)
    assert p.ports == {"echo": 65432, "api": 5000, "redis": 16379, "postgres": 5432}


def test_race_message_is_parsed(tmp_path, monkeypatch):
    p = projects.Project("t", tmp_path)
    p.ports["redis"] = 16379
    monkeypatch.setattr(portplan.ports, "holders", lambda ports: [])
    stderr = (
        "Error response from daemon: driver failed programming external connectivity on endpoint t-redis-1: "
        "Bind for 127.0.0.1:16379 failed: port is already allocated"
    )
    with pytest.raises(errors.PortInUse, match=r"redis: 127.0.0.1:16379 is already in use by another process"):
        portplan.explain_race(p, stderr)
    portplan.explain_race(p, "some other failure")  # not a port race: nothing raised


@pytest.mark.parametrize(
    ("stderr", "address"),
    [
        ("Error starting userland proxy: listen tcp4 127.0.0.1:44849: bind: address already in use", "127.0.0.1"),
        ("Error starting userland proxy: listen tcp6 [::1]:44849: bind: address already in use", "::1"),
        # Docker 28: the engine binds the port itself, and says so with the whole mapping
        (
            "failed to set up container networking: driver failed programming external connectivity on endpoint "
            "p-api-1 (d878): failed to bind host port for 127.0.0.1:44849:172.20.0.5:5000/tcp: address already in use",
            "127.0.0.1",
        ),
        ("failed to bind host port for [::1]:44849:[fd00::5]:5000/tcp: address already in use", "::1"),
        ("Bind for :::44849 failed: port is already allocated", "::"),
    ],
)
def test_every_engine_s_race_message_is_parsed(tmp_path, monkeypatch, stderr, address):
    p = projects.Project("t", tmp_path)
    p.ports["api"] = 44849
    monkeypatch.setattr(portplan.ports, "holders", lambda ports: [])
    with pytest.raises(errors.PortInUse, match=rf"api: {re.escape(address)}:44849 is already in use"):
        portplan.explain_race(p, stderr)


def _listening(port: int):
    import socket

    held = socket.socket()
    held.bind(("127.0.0.1", port))
    held.listen()
    return held


def test_dynamic_ports_keep_the_earlier_pick_while_free_or_ours(tmp_path):
    """`lab up --dynamic-ports` again keeps what it picked before: a port still free, or one published by
    the project itself (its running stack holds it); a port someone else took since is picked anew, and a
    default (never picked) is moved off, as asked."""
    p = projects.Project("t", tmp_path, ipv6=False)
    portplan.apply(p, [], dynamic=True, ours=set())
    first = dict(p.ports)
    with _listening(first["redis"]), _listening(first["postgres"]):
        again = projects.Project("t", tmp_path, ipv6=False, ports=dict(first))
        portplan.apply(again, [], dynamic=True, ours={first["redis"], first["postgres"]})
        assert again.ports == first
        moved = projects.Project("t", tmp_path, ipv6=False, ports=dict(first))
        portplan.apply(moved, [], dynamic=True, ours={first["redis"]})
    assert moved.ports["postgres"] != first["postgres"]
    assert {k: v for k, v in moved.ports.items() if k != "postgres"} == {
        k: v for k, v in first.items() if k != "postgres"
    }
    defaults = projects.Project("t", tmp_path, ipv6=False)
    portplan.apply(defaults, [], dynamic=True, ours={65432})
    assert defaults.ports["echo"] != 65432


@pytest.mark.parametrize(
    ("ephemeral", "expected"),
    [
        ("32768\t60999\n", (61000, 65535)),  # Linux's default: above it
        ("1024\t65535\n", (49152, 65535)),  # nothing left above: the IANA range
        ("32768\t64999\n", (49152, 65535)),  # fewer than 1000 above
        ("10000\t20000\n", (49152, 65535)),  # below the IANA range altogether
        (None, (49152, 65535)),  # unreadable
    ],
)
def test_dynamic_ports_come_from_above_the_kernel_s_ephemeral_range(tmp_path, ephemeral, expected):
    path = tmp_path / "ip_local_port_range"
    if ephemeral is not None:
        path.write_text(ephemeral)
    assert portplan._dynamic_range(str(path)) == expected
