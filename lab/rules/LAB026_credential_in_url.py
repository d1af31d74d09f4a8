"""A connection string with its password written in (`postgres://app:hunter2@db/app`,
`redis://:hunter2@redis:6379`) in an environment variable, whatever the variable's name
(DATABASE_URL, SENTRY_DSN, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, …).

Same exposure as LAB025, judged on what Compose ships: a `${DB_PASSWORD}` left unset ships nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB026",
    "credential-in-url",
    MEDIUM,
    "a password written into a connection string (scheme://user:password@host) in the environment",
    "take the password out of the URL: a Compose secret the entrypoint reads, or a separate *_PASSWORD_FILE",
    ("compose-lint CL-0021", "OWASP Docker Security Cheat Sheet rule 12"),
)

# scheme://user:password@ — userinfo ends before any '/', whitespace or second '@'
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,63}://([^/\s@:]*):([^/\s@]{1,512})@")


def inline_password(value: str) -> str | None:
    """The scheme of the first URL in `value` that carries a password, or None."""
    if "@" not in value or len(value) > 65536:
        return None
    for match in _URL.finditer(value):
        if match[2].strip():
            return value[match.start() : value.index("://", match.start())]
    return None


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for key, value in sorted((svc.get("environment") or {}).items()):
            scheme = inline_password(value) if isinstance(value, str) else None
            if scheme:
                yield Finding(
                    RULE.id,
                    MEDIUM,
                    name,
                    f"environment {key}",
                    f"a {scheme}:// URL with its password",
                    "readable by docker inspect, compose config and every process that can read its environment",
                    RULE.fix,
                    anchor=("services", name, "environment"),
                    item=key,
                )
