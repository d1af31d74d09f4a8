"""A credential written as a literal: an environment variable whose name says secret (PASSWORD, TOKEN,
SECRET, API_KEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, *_PASS, *_PWD, PASSWD, *_SALT, *_DSN, …) with a
value, or a password given on a command line (`--requirepass x`, `--password=x`, `PGPASSWORD=x psql`,
mysql's `-px`) in `command`, `entrypoint` or a healthcheck.

Judged on what Compose ships (the effective config): a `${VAR}` left unset ships nothing and is not
flagged; `${VAR:-hunter2}` ships hunter2 and is; a value from an `env_file` or `.env` is, because
that file is part of the project. Such values are readable by `docker inspect`, `docker compose
config`, /proc/<pid>/environ and every CI log that prints the config. Names that hold a quantity
about a credential (`TOKEN_TTL: 30`), a path to one (`*_FILE`) or a toggle (`yes`, `true`, `0`) are
not credentials. The value itself is never printed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB025",
    "credential-in-environment",
    MEDIUM,
    "a literal credential in an environment variable or on a command line",
    "move it to a Compose secret (`secrets:`, read from /run/secrets/NAME; many images take `NAME_FILE`)",
    ("compose-lint CL-0020", "OWASP Docker Security Cheat Sheet rule 12"),
)

_CONTAINS = ("PASSWORD", "PASSPHRASE", "TOKEN", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY")
_CONTAINS += ("ENCRYPTION_KEY", "CREDENTIAL")
_ENDS = ("_PASS", "_PWD", "PASSWD", "_SALT", "_DSN")
_FLAGS = ("REQUIREPASS", "MASTERAUTH")  # redis-server's, which name no PASSWORD
_NOT_SECRET = ("ALLOW_EMPTY_", "RANDOM_")  # toggles: MYSQL_RANDOM_ROOT_PASSWORD=yes
_TOGGLES = {"yes", "no", "true", "false", "0", "1", "on", "off"}
# A name about a credential's lifetime, size or policy, holding a number: TOKEN_TTL=30, not a token.
_KNOB = re.compile(
    r"TTL|TIMEOUT|EXPIR|VALIDITY|LIFETIME|MAX_?AGE|ROTATION|INTERVAL|RETENTION|DURATION|_SECONDS|_SECS|"
    r"_MINUTES|_MINS|_HOURS|_DAYS|_MS|LENGTH|MIN_?CHAR|_LIMIT|_SIZE|REQUIREMENTS|POLICY|_BONUS|TOKENS|ROUNDS|"
    r"ITERATIONS|_HISTORY|_ATTEMPTS|_RETRIES|_STRENGTH|_PORT$|_COST$"
)
_QUANTITY = re.compile(r"^\d+(\.\d+)?(ms|s|m|h|d)?$", re.I)
_MYSQL = {"mysql", "mysqladmin", "mysqldump", "mysqlcheck", "mysqlshow", "mysqlsh", "mariadb", "mariadb-dump"}
# Every argument list that can hold a credential says one of these; the rest are not split at all.
_HINT = re.compile(r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|SALT|DSN|MASTERAUTH|-p", re.I)
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_FLAG = re.compile(r"^-{1,2}([A-Za-z][A-Za-z0-9_.-]*)(?:=(.*))?$", re.S)


def credential_name(name: str, value: str) -> bool:
    """Whether a variable or flag name holding `value` names a credential."""
    key = name.upper().replace("-", "_").replace(".", "_")
    if key in _FLAGS:
        return True
    if not (any(c in key for c in _CONTAINS) or key.endswith(_ENDS)):
        return False
    if key.endswith("_FILE") or any(n in key for n in _NOT_SECRET):
        return False
    return not (_QUANTITY.match(value.strip()) and _KNOB.search(key))


def literal(value: Any) -> bool:
    """A value that ships a secret: not empty, not a toggle."""
    if value is None or isinstance(value, bool):
        return False
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return bool(text) and text.lower() not in _TOGGLES


def _tokens(value: Any, healthcheck: bool = False) -> list[str]:
    """An argument list as the program sees it; `sh -c "…"` and CMD-SHELL payloads split again."""
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    if not _HINT.search(" ".join(str(x) for x in items)):
        return []
    if isinstance(value, str):
        items = _split(value)
    out: list[str] = []
    for i, item in enumerate(str(x) for x in items):
        before = items[i - 1] if i else None
        out += _split(item) if before == "-c" or (healthcheck and i == 1 and before == "CMD-SHELL") else [item]
    return out


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _argv_literal(value: str) -> bool:
    # `$$VAR` reaches the shell as $VAR (read at run time); a path is a file holding the secret.
    return "$" not in value and not value.startswith(("/", "./", "../", "~/")) and literal(value)


def in_argv(tokens: list[str]) -> Iterator[str]:
    """The names (never the values) of credentials given literally in an argument list."""
    mysql = bool({t.rsplit("/", 1)[-1] for t in tokens} & _MYSQL)
    for i, token in enumerate(tokens):
        assign = _ASSIGN.match(token)
        if assign:
            if credential_name(assign[1], assign[2]) and _argv_literal(assign[2]):
                yield assign[1]
            continue
        if mysql and re.match(r"^-p[^-\s]", token):
            if _argv_literal(token[2:]):
                yield "-p"
            continue
        flag = _FLAG.match(token)
        if flag:
            value = flag[2]
            if value is None and i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
                value = tokens[i + 1]
            if value is not None and credential_name(flag[1], value) and _argv_literal(value):
                yield token.split("=", 1)[0]


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for key, value in sorted((svc.get("environment") or {}).items()):
            if literal(value) and credential_name(key, str(value)):
                yield Finding(
                    RULE.id,
                    MEDIUM,
                    name,
                    f"environment {key}",
                    "a literal value",
                    "readable by docker inspect, compose config and every process that can read its environment",
                    RULE.fix,
                    anchor=("services", name, "environment"),
                    item=key,
                )
        surfaces = [("command", svc.get("command"), False), ("entrypoint", svc.get("entrypoint"), False)]
        health = svc.get("healthcheck") or {}
        if not health.get("disable"):
            surfaces.append(("healthcheck", health.get("test"), True))
        for where, value, is_health in surfaces:
            for flag in dict.fromkeys(in_argv(_tokens(value, is_health))):
                yield Finding(
                    RULE.id,
                    MEDIUM,
                    name,
                    f"{where} {flag}",
                    "a literal value",
                    "readable by docker inspect and, in /proc/<pid>/cmdline, by every process in the container",
                    RULE.fix,
                    anchor=("services", name, where),
                )
