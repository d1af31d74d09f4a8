"""A project bridge without `com.docker.network.bridge.host_binding_ipv4: 127.0.0.1`: a port published
later without a host IP (an override, `docker compose run -p`, a teammate's edit) binds every
interface. With the option, the engine's default for this network is loopback."""

from __future__ import annotations

from collections.abc import Iterator

from lab import addr
from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB014",
    "bridge-default-binds-everywhere",
    MEDIUM,
    "a project bridge network whose default host binding is every interface",
    'set `driver_opts: {com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"}` on it, or `lab fix`',
    fixable=True,
)

OPTION = "com.docker.network.bridge.host_binding_ipv4"


def check(ctx: Context) -> Iterator[Finding]:
    for key, net in ctx.bridges():
        binding = (net.get("driver_opts") or {}).get(OPTION)
        if addr.is_loopback(binding):
            continue
        yield Finding(
            RULE.id,
            MEDIUM,
            "",
            f"networks.{key}",
            f"{OPTION} {binding}" if binding else f"no {OPTION}",
            "a port published without a host IP on this network binds every interface",
            RULE.fix,
            anchor=("networks", key),
        )
