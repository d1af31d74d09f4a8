"""The rule set: one module per rule, named by its ID, run over the *effective* configuration.

`lab check` reports every finding; `lab up` refuses anything rated high before it creates a thing;
`lab verify` lists the same findings as its `static` checks. One rule set for every project, ours
included. Each rule module holds its metadata (`RULE`) and one function, `check(ctx)`, that yields
`Finding`s; `evaluate` runs them all. A rule that `lab fix` can repair says so (`Rule.fixable`): the
fixer and `lab up --fix` read that, nowhere else.

The config judged is what Compose itself prints (`compose config`: overrides, `!override`/`!reset`,
`include`, `extends`, profiles and `.env` applied by Compose, not re-implemented). compose-lint is
merge-aware too (it follows overrides, `!override`, `include`, profiles and `.env`); where a rule here
matches one of its rules (or dclint's), the rule's `references` name it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is. A StrEnum: it prints, compares and serialises as "high", "medium", "low"."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self)


HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW
SEVERITIES = (LOW, MEDIUM, HIGH)  # ascending


def at_least(severity: str | None, threshold: str) -> bool:
    """Is `severity` at `threshold` or above? A safe row (no severity) never is."""
    return bool(severity) and Severity(severity).rank >= Severity(threshold).rank


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity  # the usual one; a finding may carry another (a read-only mount is milder)
    summary: str
    fix: str
    references: tuple[str, ...] = ()
    fixable: bool = False  # `lab fix` repairs its findings (the fixer and `lab up --fix` read this)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity | None  # None: a safe row (a loopback port judged and passed, listed by verify)
    service: str  # "" for a project-level finding (a network)
    key: str  # where, in words: "tcp/8080->80", "privileged", "cap_add SYS_ADMIN", "networks.lan"
    value: str
    detail: str
    fix: str = ""
    port: dict[str, Any] | None = None  # the effective port: published, target, protocol, host_ip
    anchor: tuple[str, ...] = ()  # the source keys to point at: ("services", "web", "ports")
    item: Any = None  # which list item under the anchor (a port dict, a capability, a mount source)

    @property
    def fingerprint(self) -> str:
        """Who it is, not where: rule, service and key (a baseline survives lines moving; SARIF's
        partialFingerprints)."""
        import hashlib

        return hashlib.sha256(f"{self.rule}\0{self.service}\0{self.key}".encode()).hexdigest()[:16]

    @property
    def safe(self) -> bool:
        """A row that was judged and passed (verify lists it), not a finding."""
        return not self.severity

    def line(self) -> str:
        where = f"service {self.service}" if self.service else "project"
        return f"{where}: {self.key}: {self.value} ({self.detail})"

    @property
    def target(self) -> str:
        return f"{self.service or 'project'} {self.key}"

    @property
    def message(self) -> str:
        return f"{self.key}: {self.value} ({self.detail})"


@dataclass
class Context:
    """What a rule may read: the effective config, the project's name, and the raw source text of a
    port where the files are at hand (to tell a host IP that came from a variable)."""

    config: dict[str, Any]
    project: str
    raw_port: Callable[[str, dict[str, Any]], Any] = field(default=lambda service, port: None)

    def services(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from sorted((self.config.get("services") or {}).items())

    def bridges(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The project's own bridge networks: what the bridge options' rules judge."""
        for key, net in sorted((self.config.get("networks") or {}).items()):
            net = net or {}
            if not net.get("external") and (net.get("driver") or "bridge") == "bridge":
                yield key, net


def _load() -> dict[str, Any]:
    modules = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("LAB"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            modules[module.RULE.id] = module
    return modules


_MODULES = _load()
RULES: tuple[Rule, ...] = tuple(m.RULE for m in _MODULES.values())
BY_ID = {r.id: r for r in RULES}
FIXABLE = frozenset(r.id for r in RULES if r.fixable)


def evaluate(ctx: Context) -> list[Finding]:
    """Every finding of every rule, safe port rows included, in service then rule order."""
    found = [f for m in _MODULES.values() for f in m.check(ctx)]
    return sorted(found, key=lambda f: (f.service, f.rule, f.key))


def audit(config: dict[str, Any], project: str) -> list[Finding]:
    return evaluate(Context(config, project))


def unsafe(config: dict[str, Any], project: str) -> list[Finding]:
    """What `lab up` refuses: anything rated high."""
    return [f for f in audit(config, project) if f.severity == HIGH]
