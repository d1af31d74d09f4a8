"""A port published on a specific address that is not loopback: a LAN or public interface, a VPN's,
a name. Narrower than all interfaces, still reachable from another host."""

from __future__ import annotations

from collections.abc import Iterator

from lab import addr
from lab.rules import HIGH, Context, Finding, Rule
from lab.rules import ports as p

RULE = Rule(
    "LAB002",
    "port-on-non-loopback-address",
    HIGH,
    "a port published on an address other than loopback",
    "publish on 127.0.0.1 (and ::1) instead, or `lab fix`",
    ("CIS Docker Benchmark 5.13",),
    fixable=True,
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, port in p.entries(ctx):
        host = port.get("host_ip")
        if host and not addr.is_loopback(host) and not addr.is_wildcard(host):
            yield p.finding(
                RULE, name, port, f"host_ip {addr.describe(host)}", "publish on 127.0.0.1 or ::1 only", HIGH
            )
