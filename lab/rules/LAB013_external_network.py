"""A service on a network the project does not own: `external: true`, or a bridge `name:`d like
another project's. Other containers sit there, and lab can neither harden nor remove it."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, MEDIUM, Context, Finding, Rule
from lab.rules.LAB012_network_driver import service_networks

RULE = Rule(
    "LAB013",
    "network-not-owned",
    HIGH,
    "an external network, or one named outside the project",
    "use a network of this project (no `external`, no `name:`); connect to shared services by published port",
)


def check(ctx: Context) -> Iterator[Finding]:
    declared = ctx.config.get("networks") or {}
    for name, svc in ctx.services():
        for key in service_networks(svc):
            net = declared.get(key) or {}
            real = net.get("name") or f"{ctx.project}_{key}"
            where = dict(anchor=("services", name, "networks"), item=key)
            if net.get("external"):
                yield Finding(
                    RULE.id,
                    HIGH,
                    name,
                    f"networks.{key}",
                    f"external network {real}",
                    "not the project's own: lab can neither harden nor remove it",
                    RULE.fix,
                    **where,
                )
            elif (net.get("driver") or "bridge") == "bridge" and real != f"{ctx.project}_{key}":
                yield Finding(
                    RULE.id,
                    MEDIUM,
                    name,
                    f"networks.{key}",
                    f"network named {real}",
                    f"not the project's own name (it would be {ctx.project}_{key}); another project may share it",
                    "drop its `name:`",
                    **where,
                )
