"""`network_mode: bridge` or `container:<id>`: a network outside the project (the engine's default
bridge, shared with every other container; another container's namespace), which lab cannot guard
with the project's rules. `service:<name>` (the project's own) and `none` are fine."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB005",
    "network-mode-outside-project",
    HIGH,
    "network_mode bridge or container:… (outside the project's networks)",
    "drop `network_mode` (the project's own network), or use `service:NAME` of this project",
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        mode = svc.get("network_mode")
        if not mode or mode in ("host", "none") or mode.startswith("service:"):
            continue
        why = (
            "the engine's default bridge, shared with containers of every other project"
            if mode == "bridge"
            else "another container's network namespace, outside the project"
        )
        yield Finding(
            RULE.id, HIGH, name, "network_mode", mode, why, RULE.fix, anchor=("services", name, "network_mode")
        )
