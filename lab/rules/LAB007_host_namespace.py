"""A namespace shared with the host: `pid`, `ipc`, `uts`, `userns_mode` or `cgroup` set to `host`."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB007",
    "host-namespace",
    HIGH,
    "pid, ipc, uts, userns_mode or cgroup: host",
    "drop the `host` namespace setting",
    ("compose-lint CL-0010", "CIS Docker Benchmark 5.15, 5.16, 5.20, 5.30"),
)

KEYS = ("pid", "ipc", "uts", "userns_mode", "cgroup")


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for key in KEYS:
            if svc.get(key) == "host":
                yield Finding(
                    RULE.id,
                    HIGH,
                    name,
                    key,
                    "host",
                    "shares the host's namespace",
                    RULE.fix,
                    anchor=("services", name, key),
                )
