"""A port published on every interface: no host IP (short syntax "8080:80"), an empty one, 0.0.0.0 or ::.

Every such port answers the LAN, and Docker's published ports also bypass the host's firewall (its
own DNAT rules come first). The one finding people most often fix by hand, PR after PR.
A loopback port is yielded as a safe row (`Finding.safe`), so verify can list every port it judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab import addr
from lab.rules import HIGH, Context, Finding, Rule
from lab.rules import ports as p

RULE = Rule(
    "LAB001",
    "port-on-all-interfaces",
    HIGH,
    "a port published on every interface (no host IP, 0.0.0.0 or ::)",
    "publish on loopback: `127.0.0.1:HOST:CONTAINER` (and `[::1]:HOST:CONTAINER`), or `lab fix`",
    ("compose-lint CL-0005", "dclint no-unbound-port-interfaces", "CIS Docker Benchmark 5.13"),
    fixable=True,
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for port in svc.get("ports") or []:
            if not isinstance(port, dict):  # compose config always gives the long form
                yield Finding(RULE.id, HIGH, name, "ports", repr(port), "not understood; use the long syntax")
    for name, port in p.entries(ctx):
        host = port.get("host_ip")
        if addr.is_loopback(host):
            yield p.finding(RULE, name, port, f"host_ip {host}", "loopback")
        elif not host:
            yield p.finding(
                RULE,
                name,
                port,
                "published without a host IP",
                "that is every interface; write 127.0.0.1:HOST:CONTAINER or host_ip: 127.0.0.1",
                HIGH,
            )
        elif addr.is_wildcard(host):
            yield p.finding(
                RULE, name, port, f"host_ip {addr.describe(host)}", "publish on 127.0.0.1 or ::1 only", HIGH
            )
