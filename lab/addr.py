"""Address facts: the one place lab decides what an address is.

A tool whose job is to prove "loopback only" must define loopback once. Every module that asks
"is this loopback", "is this a wildcard", "which socket family" or "how do I write host:port"
asks here.
"""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"
WILDCARD = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}


def _parse(host: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not host:
        return None
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def within(host: str | None, subnet: str) -> bool:
    """Is `host` an address inside `subnet` (a CIDR, host bits allowed)? False for anything unparsable or
    of the other family."""
    ip = _parse(host)
    try:
        return ip is not None and ip in ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        return False


def is_loopback(host: str | None) -> bool:
    """Only a literal loopback address counts: a name ("localhost") or an empty host does not."""
    ip = _parse(host)
    return ip is not None and ip.is_loopback


def is_wildcard(host: str | None) -> bool:
    """Empty means "every interface" to Compose and to the kernel, like 0.0.0.0 and ::."""
    ip = _parse(host)
    return not host or (ip is not None and ip.is_unspecified)


def family(host: str) -> socket.AddressFamily:
    """The socket family of a literal address (IPv6 when it has a colon)."""
    ip = _parse(host)
    if ip is None:
        return socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def is_v6(text: str) -> bool:
    """An IPv6 address or network ("fd00::/64")?"""
    return family(text.split("/", 1)[0]) == socket.AF_INET6


def family_name(host: str) -> str:
    return "IPv6" if family(host) == socket.AF_INET6 else "IPv4"


def wildcard_of(host: str) -> str:
    """The all-interfaces address of `host`'s family: a bind there collides with `host`."""
    return WILDCARD[family(host)]


def host_port(host: str, port: int) -> str:
    """`127.0.0.1:5000`, `[::1]:5000`."""
    return f"[{host.strip('[]')}]:{port}" if family(host) == socket.AF_INET6 else f"{host}:{port}"


def describe(host: str | None) -> str:
    """Why an address is not acceptable, in words."""
    if not host:
        return "empty host_ip (all interfaces)"
    if is_wildcard(host):
        return f"{host} (all interfaces)"
    if is_loopback(host):
        return f"{host} (loopback)"
    return f"{host} (not loopback)"
