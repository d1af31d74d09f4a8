"""A port whose host IP comes from a variable (`"${BIND:-0.0.0.0}:80:80"`, `host_ip: ${HOST}`).

Whatever it resolves to here, anyone who sets that variable (a shell, a `.env`, CI) decides which
interface the port is on. Linters that rewrite the short syntax leave these on all interfaces
(compose-lint's fixer skips them); the effective value is judged by LAB001/LAB002, this rule says
that the choice is not the file's.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab import addr
from lab.rules import MEDIUM, Context, Finding, Rule
from lab.rules import ports as p

RULE = Rule(
    "LAB003",
    "port-host-from-variable",
    MEDIUM,
    "a port whose host IP is taken from a variable",
    "write the host IP literally (127.0.0.1), or `lab fix`",
    fixable=True,
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, port in p.entries(ctx):
        host = p.raw_host(ctx.raw_port(name, port))
        if host and "$" in host:
            resolved = port.get("host_ip") or ""
            said = addr.describe(resolved) if resolved else "nothing (all interfaces)"
            yield p.finding(
                RULE,
                name,
                port,
                f"host IP from {host}",
                f"resolved to {said} here; whoever sets the variable can publish it on any interface",
                MEDIUM,
            )
