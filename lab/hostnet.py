"""Facts about the host's network that decide what gets published."""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
from pathlib import Path

from lab import addr


@functools.cache
def has_ipv6_loopback() -> bool:
    """True when a socket can bind [::1] — the per-host test for publishing on ::1 too."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def ca_bundle() -> Path | None:
    """The host's CA bundle, which builds that fetch over TLS get as a secret (proxies re-sign TLS)."""
    for candidate in (
        os.environ.get("LAB_CA_BUNDLE"),
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("REQUESTS_CA_BUNDLE"),
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi  # shipped with requests
    except ImportError:
        return None
    return Path(certifi.where())


def port_is_free(host: str, port: int, protocol: str) -> bool:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    try:
        with socket.socket(addr.family(host), kind) as sock:
            sock.bind((host, port))
    except OSError:  # held, or the family is gone: either way we cannot publish there
        return False
    return True


def interface_with(address: str) -> str | None:
    """The host interface that holds `address` (a bridge's gateway), from the kernel's own answer.

    Docker names its bridges `br-<id>`, Podman `podman<N>`, and a rootless engine's bridge is in another
    namespace (no interface here at all): the gateway address says which it is, whatever the engine."""
    import json
    import subprocess

    try:
        shown = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, timeout=10)
        links = json.loads(shown.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    for link in links:
        if any(a.get("local") == address for a in link.get("addr_info") or []):
            return link.get("ifname")
    return None


def free_subnet(prefixlen: int, avoid: tuple[str, ...] = ()) -> ipaddress.IPv4Network:
    """A subnet in 10.200.0.0/13 that no route on this host uses (nor any of `avoid`): for the neighbour
    probe's veth pair, and for a rootless engine's networks, whose addresses must not mean something
    else on this host (the system engine's 172.18.0.0/16, say)."""
    import random
    import subprocess

    from lab.errors import NetnsError

    used = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    nets = [ipaddress.ip_network(a, strict=False) for a in avoid]
    for line in used.splitlines():
        try:
            nets.append(ipaddress.ip_network(line.split()[0 if line[0].isdigit() else 1], strict=False))
        except (ValueError, IndexError):
            continue
    step = 2 ** (32 - prefixlen)
    for _ in range(100):
        base = (10 << 24) | (random.randint(200, 207) << 16) | random.randrange(0, 1 << 16, step)
        candidate = ipaddress.ip_network((base, prefixlen))
        if not any(candidate.overlaps(n) for n in nets if n.prefixlen > 0):
            return candidate
    raise NetnsError(f"no free /{prefixlen} in 10.200.0.0/13 on this host")
