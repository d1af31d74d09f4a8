"""The engine's inventory -> the endpoints verify probes, for any project.

What the engine published is the truth: every binding becomes an endpoint on the loopback address a
client would use (0.0.0.0 -> 127.0.0.1, :: -> ::1). A binding on another address is never probed (lab
sends no traffic off loopback); the `runtime` and `sockets` checks fail it already. For lab's own
project the catalogue's endpoints come first — a stopped service is then a failed probe, not a
missing line — and the bindings add whatever an override published.
"""

from __future__ import annotations

from lab import addr, hostnet
from lab.catalogue import Endpoint
from lab.inventory import Binding, Container


def from_bindings(found: list[Binding], containers: list[Container]) -> list[Endpoint]:
    service = {c.name: c.service for c in containers}
    ipv6 = hostnet.has_ipv6_loopback()
    out = []
    for b in found:
        if addr.is_loopback(b.host_ip):
            host = b.host_ip
        elif addr.is_wildcard(b.host_ip):
            host = addr.LOOPBACK_V6 if addr.family_name(b.host_ip or "0.0.0.0") == "IPv6" else addr.LOOPBACK_V4
            if host == addr.LOOPBACK_V6 and not ipv6:
                continue
        else:
            continue
        out.append(Endpoint(service.get(b.container, b.container), host, b.host_port, b.protocol))
    return out


def merge(known: list[Endpoint], seen: list[Endpoint]) -> list[Endpoint]:
    out = list(known)
    for e in seen:
        if e not in out:
            out.append(e)
    return out
