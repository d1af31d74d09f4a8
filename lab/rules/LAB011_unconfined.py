"""A confinement switched off: `seccomp:unconfined`, `apparmor:unconfined`, `label:disable` (SELinux),
`systempaths=unconfined` (masked /proc and /sys paths exposed)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB011",
    "confinement-disabled",
    HIGH,
    "seccomp, AppArmor, SELinux or masked paths switched off",
    "remove the `security_opt` entry; if a syscall is missing, allow that one in a custom seccomp profile",
    ("compose-lint CL-0009", "CIS Docker Benchmark 5.1, 5.2, 5.21"),
)

_OFF = re.compile(r"^\s*(seccomp|apparmor|systempaths)\s*[:=]\s*unconfined\s*$|^\s*label\s*[:=]\s*disable\s*$", re.I)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for opt in svc.get("security_opt") or []:
            if _OFF.match(str(opt)):
                yield Finding(
                    RULE.id,
                    HIGH,
                    name,
                    "security_opt",
                    str(opt),
                    "a kernel-level confinement is off: an escape needs one bug less",
                    RULE.fix,
                    anchor=("services", name, "security_opt"),
                    item=opt,
                )
