"""ports.holders reads the kernel's socket tables: checked against sockets this test really opens."""

import os
import socket

import pytest

from lab import ports


def test_listeners_and_udp_bindings_are_found_with_their_owner():
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    try:
        found = {(h.address, h.port, h.protocol, h.pid) for h in ports.holders({port})}
    finally:
        tcp.close()
        udp.close()
    assert found == {("127.0.0.1", port, "tcp", os.getpid()), ("127.0.0.1", port, "udp", os.getpid())}


def test_ipv6_and_wildcard_addresses_read_right():
    s = socket.socket(socket.AF_INET6)
    try:
        s.bind(("::1", 0))
    except OSError:
        s.close()
        return  # no IPv6 here: nothing to read
    s.listen()
    w = socket.socket()
    w.bind(("0.0.0.0", 0))
    w.listen()
    v6, v4 = s.getsockname()[1], w.getsockname()[1]
    try:
        held = {(h.address, h.port) for h in ports.holders({v6, v4})}
    finally:
        s.close()
        w.close()
    assert held == {("::1", v6), ("0.0.0.0", v4)}


def test_a_connected_client_or_a_closed_listener_is_not_a_holder():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    server.close()
    try:
        assert ports.holders({port}) == []
    finally:
        client.close()


@pytest.mark.parametrize(
    "command, holder",
    [
        ("/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 6379", "docker-proxy"),
        ("/usr/bin/conmon --api-version 1 -c b458b8258e48 -u b458b8258e48", "conmon"),
        ("rootlesskit --net=slirp4netns --port-driver=builtin dockerd", "rootlesskit"),
        ("redis-server 127.0.0.1:6379", None),
        ("/opt/not-conmon --conmon", None),
        ("?", None),
    ],
)
def test_each_engine_s_port_holder_is_known_by_its_program_not_its_arguments(command, holder):
    assert ports.Holder("127.0.0.1", 6379, "tcp", 1, command, "root").engine_holder == holder
