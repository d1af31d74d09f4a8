"""`user: root` (or 0, 0:0, root:1000, 000): the service runs as root, overriding a non-root `USER`
the image's author chose. It matters after a compromise: root in the container is one kernel or
runtime bug from root on the host, and owns every file the container can reach."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB023",
    "user-root",
    MEDIUM,
    "`user:` naming root (root, 0, 0:0, …)",
    'drop `user:` to keep the image\'s own user, or set a non-root one (`user: "1000:1000"`)',
    ("compose-lint CL-0018", "CIS Docker Benchmark 4.1"),
)

_ZERO = re.compile(r"^[+-]?0+$")  # runc reads the uid with Go's Atoi: 000, +0 and -0 are 0


def is_root(user: object) -> bool:
    part = str(user).strip().lower().partition(":")[0]
    return part == "root" or bool(_ZERO.match(part))


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        user = svc.get("user")
        if user is not None and is_root(user):
            yield Finding(
                RULE.id,
                MEDIUM,
                name,
                "user",
                str(user),
                "runs as root, whatever user the image chose",
                RULE.fix,
                anchor=("services", name, "user"),
            )
