"""A service that keeps Docker's default capabilities (no `cap_drop: [ALL]`): CHOWN, DAC_OVERRIDE,
FOWNER, NET_RAW, MKNOD, SETUID, SETGID, SYS_CHROOT and the rest, whether it needs them or not.

A hardening gap that matters after a compromise (NET_RAW lets a process spoof packets on the
project's network). Not fixed automatically: entrypoints that chown their data or switch user
(the postgres, redis and nginx images) need CHOWN, SETUID and SETGID back.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule
from lab.rules.LAB010_dangerous_capability import normal

RULE = Rule(
    "LAB018",
    "capabilities-not-dropped",
    LOW,
    "a service without `cap_drop: [ALL]`",
    "add `cap_drop: [ALL]`, then `cap_add` back only what it needs (often CHOWN, SETUID, SETGID; or none)",
    ("compose-lint CL-0006", "CIS Docker Benchmark 5.3"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        if "ALL" not in {normal(c) for c in svc.get("cap_drop") or []}:
            yield Finding(
                RULE.id,
                LOW,
                name,
                "cap_drop",
                "ALL not dropped",
                "keeps Docker's default capabilities (NET_RAW, DAC_OVERRIDE, MKNOD, …)",
                RULE.fix,
                anchor=("services", name, "cap_drop"),
            )
