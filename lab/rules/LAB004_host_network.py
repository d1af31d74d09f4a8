"""`network_mode: host`: the container is on the host's own network stack, so every port it opens is
on every host interface, with no publishing (and nothing lab can bind to loopback or guard)."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB004",
    "host-network",
    HIGH,
    "network_mode: host",
    "drop `network_mode: host` and publish the ports it needs on 127.0.0.1",
    ("compose-lint CL-0008", "CIS Docker Benchmark 5.9"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        if svc.get("network_mode") == "host":
            yield Finding(
                RULE.id,
                HIGH,
                name,
                "network_mode",
                "host",
                "the host's network: every port it opens is on every host interface",
                RULE.fix,
                anchor=("services", name, "network_mode"),
            )
