import socket

import pytest

from lab import addr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_loopback_literals(host):
    assert addr.is_loopback(host) and not addr.is_wildcard(host)


@pytest.mark.parametrize("host", ["", None, "0.0.0.0", "::", "[::]", "localhost", "10.0.0.1", "fe80::1", "nonsense"])
def test_everything_else_is_not_loopback(host):
    assert not addr.is_loopback(host)


@pytest.mark.parametrize(
    "host, wild",
    [("", True), (None, True), ("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("192.168.1.1", False)],
)
def test_wildcards(host, wild):
    assert addr.is_wildcard(host) is wild


def test_family_and_formatting():
    assert addr.family("::1") == socket.AF_INET6 and addr.family("127.0.0.1") == socket.AF_INET
    assert addr.family("fe80::1%eth0") == socket.AF_INET6
    assert (addr.wildcard_of("::1"), addr.wildcard_of("127.0.0.1")) == ("::", "0.0.0.0")
    assert (addr.host_port("::1", 5), addr.host_port("127.0.0.1", 5)) == ("[::1]:5", "127.0.0.1:5")
    assert addr.family_name("::") == "IPv6"


@pytest.mark.parametrize(
    "host, words",
    [
        ("", "empty host_ip (all interfaces)"),
        ("0.0.0.0", "0.0.0.0 (all interfaces)"),
        ("10.1.2.3", "10.1.2.3 (not loopback)"),
    ],
)
def test_describe(host, words):
    assert addr.describe(host) == words
