"""The rule set: one module per rule, named by its ID, run over the *effective* configuration.

`lab check` reports every finding; `lab up` refuses anything rated high before it creates a thing;
`lab verify` lists the same findings as its `static` checks. One rule set for every project, ours
included. Each rule module holds its metadata (`RULE`) and one function, `check(ctx)`, that yields
`Finding`s; `evaluate` runs them all.

Why not compose-lint's rules: they read the files' text (their own interpolation, no Compose merge,
`!override`, `include`, profiles), and the question here is what Compose will really run. Where a rule
here matches one of theirs (or dclint's), its `references` name it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (LOW, MEDIUM, HIGH)  # ascending


def at_least(severity: str, threshold: str) -> bool:
    return bool(severity) and SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str  # the usual one; a finding may carry another (a read-only mount is milder)
    summary: str
    fix: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # "" for a safe row (a loopback port, listed by verify)
    service: str  # "" for a project-level finding (a network)
    key: str  # where, in words: "tcp/8080->80", "privileged", "cap_add SYS_ADMIN", "networks.lan"
    value: str
    detail: str
    fix: str = ""
    port: dict[str, Any] | None = None  # the effective port: published, target, protocol, host_ip
    anchor: tuple[str, ...] = ()  # the source keys to point at: ("services", "web", "ports")
    item: Any = None  # which list item under the anchor (a port dict, a capability, a mount source)
    ok: bool = False

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


def evaluate(ctx: Context) -> list[Finding]:
    """Every finding of every rule, safe port rows included, in service then rule order."""
    found = [f for m in _MODULES.values() for f in m.check(ctx)]
    return sorted(found, key=lambda f: (f.service, f.rule, f.key))


def audit(config: dict[str, Any], project: str) -> list[Finding]:
    return evaluate(Context(config, project))


def unsafe(config: dict[str, Any], project: str) -> list[Finding]:
    """What `lab up` refuses: anything rated high."""
    return [f for f in audit(config, project) if not f.ok and f.severity == HIGH]
