"""A service whose root filesystem is writable (no `read_only: true`): after a compromise, a process
can replace binaries, drop tools and persist in the container's layer until it is recreated."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB019",
    "root-filesystem-writable",
    LOW,
    "a service without `read_only: true`",
    "set `read_only: true`; give it `tmpfs:` for scratch paths (/tmp, /run) and volumes for its data",
    ("compose-lint CL-0007", "CIS Docker Benchmark 5.12"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        if svc.get("read_only") is not True:
            yield Finding(
                RULE.id,
                LOW,
                name,
                "read_only",
                "not set",
                "the container can rewrite its own binaries",
                RULE.fix,
                anchor=("services", name, "read_only"),
            )
