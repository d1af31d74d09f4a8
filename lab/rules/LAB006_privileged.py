"""`privileged: true`: every capability, every device, no seccomp or AppArmor — root on the host in
all but name; it can rewrite the host's firewall (lab's rules included)."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB006",
    "privileged",
    HIGH,
    "privileged: true",
    "drop `privileged`; add only the capability or device it needs",
    ("compose-lint CL-0002", "CIS Docker Benchmark 5.4"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        if svc.get("privileged"):
            yield Finding(
                RULE.id,
                HIGH,
                name,
                "privileged",
                "true",
                "a privileged container can rewrite the host's firewall",
                RULE.fix,
                anchor=("services", name, "privileged"),
            )
