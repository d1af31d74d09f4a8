"""A service without `no-new-privileges`: a process inside can gain privileges through a setuid or
setgid binary (sudo, su, ping on old images) or a file capability.

It matters after a compromise, not before: nothing reaches the container because of it. Docker
reads `security_opt` in order and the last `no-new-privileges` entry wins (`extends` can append a
`:false` after a base's `:true`), so the last one is judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB016",
    "no-new-privileges-missing",
    LOW,
    "a service that does not set `security_opt: [no-new-privileges:true]`",
    'add `security_opt: ["no-new-privileges:true"]` (entrypoints that drop to a user with gosu/su-exec keep working)',
    ("compose-lint CL-0003", "CIS Docker Benchmark 5.25"),
)

_TRUE = {"", "true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


def set_on(security_opt: list | None) -> bool:
    """Whether the container starts with no-new-privileges, the last entry naming it winning."""
    on = False
    for opt in security_opt or []:
        key, _sep, value = str(opt).strip().lower().replace("=", ":", 1).partition(":")
        if key != "no-new-privileges":
            continue
        if value.strip() in _TRUE:
            on = True
        elif value.strip() in _FALSE:
            on = False
    return on


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        if not set_on(svc.get("security_opt")):
            yield Finding(
                RULE.id,
                LOW,
                name,
                "security_opt",
                "no no-new-privileges",
                "a setuid binary inside can make a compromised process root in the container",
                RULE.fix,
                anchor=("services", name, "security_opt"),
            )
