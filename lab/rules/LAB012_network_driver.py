"""A service on a network whose driver is not a bridge (macvlan, ipvlan, host, overlay): the
container sits on the LAN itself, or outside the host's bridge where lab can neither bind to
loopback nor guard nor probe it."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB012",
    "non-bridge-network",
    HIGH,
    "a macvlan, ipvlan or other non-bridge network",
    "use a bridge network (the default) and publish on 127.0.0.1",
)

_WHY = {
    "macvlan": "the container gets its own address on the LAN: every port it opens is there",
    "ipvlan": "the container gets its own address on the LAN: every port it opens is there",
    "host": "the host's network: every port it opens is on every host interface",
}


def service_networks(svc: dict) -> list[str]:
    """The project keys of the networks a service joins (`default` when it names none)."""
    if svc.get("network_mode"):
        return []
    nets = svc.get("networks")
    return list(nets) if nets else ["default"]


def check(ctx: Context) -> Iterator[Finding]:
    declared = ctx.config.get("networks") or {}
    for name, svc in ctx.services():
        for key in service_networks(svc):
            net = declared.get(key) or {}
            driver = net.get("driver") or "bridge"
            if net.get("external") or driver == "bridge":
                continue  # external networks: LAB013
            yield Finding(
                RULE.id,
                HIGH,
                name,
                f"networks.{key}",
                f"driver {driver}",
                _WHY.get(driver, "only bridge networks sit behind the host, where lab can guard and probe them"),
                RULE.fix,
                anchor=("services", name, "networks"),
                item=key,
            )
