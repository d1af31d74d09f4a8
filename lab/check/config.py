"""A project's settings for `lab check`: `.lab.toml` in the project's folder (or `--config FILE`).

Why a file of lab's own rather than `pyproject.toml [tool.lab]` or an `x-lab:` key in the compose file:
most Compose projects are not Python projects; and the compose files are what is being judged — often
vendored or generated (sentry's self-hosted, lab's own), merged from several files, interpolated, and
run by people who never run lab. A setting inside them would travel into every `docker compose config`
and be merged like the rest, so "which file turned this rule off?" would have no simple answer. A
suppression that belongs to one line is written on that line instead (`# lab: ignore[LAB001] reason`,
lab.check.suppress).

    [check.rules]                       # every service
    LAB014 = "off"                      # turned off: reported as suppressed, never counted
    LAB003 = "low"                      # another severity
    LAB010 = { severity = "medium", reason = "SYS_PTRACE for the debugger profile" }

    [check.services.cadvisor]           # one service (as named in the compose file)
    LAB009 = { severity = "off", reason = "reads /sys to measure containers" }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import rules
from lab.errors import UsageError

NAME = ".lab.toml"
OFF = "off"
_CHOICES = (*[s.value for s in rules.SEVERITIES], OFF)


class ConfigError(UsageError):
    """A `.lab.toml` lab cannot use as written."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}", "see docs/check.md (configuration)")


@dataclass(frozen=True)
class Setting:
    severity: str  # "off" or a severity
    reason: str = ""


@dataclass
class Config:
    path: Path | None = None
    rules: dict[str, Setting] = field(default_factory=dict)
    services: dict[str, dict[str, Setting]] = field(default_factory=dict)

    def setting(self, rule: str, service: str) -> Setting | None:
        """The one setting for this rule on this service: the service's own first, then the project's."""
        return (self.services.get(service) or {}).get(rule) or self.rules.get(rule)


def _setting(path: Path, where: str, rule: str, value: Any) -> Setting:
    if rule not in rules.BY_ID:
        raise ConfigError(path, f"unknown rule {rule} in [{where}] (`lab check --rules` lists them)")
    if isinstance(value, dict):
        extra = set(value) - {"severity", "reason"}
        if extra or "severity" not in value:
            raise ConfigError(path, f"{where}.{rule}: write {{ severity = …, reason = … }}")
        severity, reason = value["severity"], value.get("reason", "")
    else:
        severity, reason = value, ""
    if severity not in _CHOICES or not isinstance(reason, str):
        raise ConfigError(path, f"{where}.{rule} = {severity!r}: choose one of {', '.join(_CHOICES)}")
    return Setting(severity, reason.strip())


def _table(path: Path, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path, f"[{where}] must be a table")
    return value


def parse(path: Path, text: str) -> Config:
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not TOML: {exc}") from None
    unknown = set(doc) - {"check"}
    check = _table(path, doc.get("check", {}), "check")
    unknown |= {f"check.{k}" for k in set(check) - {"rules", "services"}}
    if unknown:
        raise ConfigError(path, f"unknown key {sorted(unknown)[0]} (lab reads [check.rules] and [check.services.NAME])")
    config = Config(path)
    for rule, value in _table(path, check.get("rules", {}), "check.rules").items():
        config.rules[rule] = _setting(path, "check.rules", rule, value)
    for service, table in _table(path, check.get("services", {}), "check.services").items():
        where = f"check.services.{service}"
        config.services[service] = {r: _setting(path, where, r, v) for r, v in _table(path, table, where).items()}
    return config


def load(directory: Path, explicit: Path | None = None) -> Config:
    """`--config FILE` (which must exist), else `.lab.toml` in the project's folder, else no settings."""
    path = explicit or directory / NAME
    if explicit is None and not path.is_file():
        return Config()
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"--config {path}: {exc.strerror.lower()}", "give the path of a .lab.toml") from None
    return parse(path.resolve(), text)
