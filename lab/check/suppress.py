"""Suppressions: a comment on the line (`# lab: ignore[LAB001] reason`) and `.lab.toml` (lab.check.config).

A suppressed finding is never dropped: JSON and SARIF report it with its justification (SARIF's
`suppressions`, kind `inSource` for a comment, `external` for the config file), text output counts
it; it does not count toward `--fail-on`, `lab fix` leaves it alone and `lab up -f` does not refuse it.

A comment covers the findings placed on its own line, or, alone on its line, those on the next one:

    ports:
      - "8080:80"  # lab: ignore[LAB001] the demo is meant for phones on this Wi-Fi
      # lab: ignore[LAB006, LAB010] the CI runner's nested engine needs both
      - ...

The reason is required: a suppression nobody can explain later is a finding nobody fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lab import rules
from lab.check.config import OFF, Config
from lab.errors import UsageError

if TYPE_CHECKING:
    from lab.check import Located

_COMMENT = re.compile(r"(?:^|\s)#\s*lab:\s*ignore\b(.*)$")
_FORM = re.compile(r"\[([^\]]*)\]\s*(.*)$")


class BadSuppression(UsageError):
    """A `# lab: ignore` comment lab cannot use as written."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", "write `# lab: ignore[LABnnn] why it is accepted`")


@dataclass(frozen=True)
class Suppression:
    kind: str  # SARIF's words: "inSource" (a comment) or "external" (.lab.toml)
    justification: str
    where: str  # "compose.yaml:12", ".lab.toml"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "justification": self.justification, "where": self.where}


@dataclass
class Comment:
    file: Path
    line: int  # the line it covers (1-based)
    written: int  # the line it is on
    rules: tuple[str, ...]
    reason: str
    used: bool = False


def comments(path: Path, label: str) -> list[Comment]:
    """Every `# lab: ignore[…] reason` in one file; a malformed one, an unknown rule or a missing
    reason is a one-line error naming file:line."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for number, text in enumerate(lines, 1):
        found = _COMMENT.search(text)
        if not found:
            continue
        where = f"{label}:{number}"
        form = _FORM.match(found.group(1).strip())
        if not form:
            raise BadSuppression(where, "a suppression names its rules in brackets: `# lab: ignore[LAB001] reason`")
        ids = tuple(r.strip() for r in form.group(1).split(",") if r.strip())
        if not ids:
            raise BadSuppression(where, "a suppression names at least one rule")
        unknown = [r for r in ids if r not in rules.BY_ID]
        if unknown:
            raise BadSuppression(where, f"unknown rule {unknown[0]} in a suppression (`lab check --rules` lists them)")
        reason = form.group(2).strip()
        if not reason:
            raise BadSuppression(where, f"the suppression of {', '.join(ids)} gives no reason")
        alone = text[: found.start()].strip() == ""
        out.append(Comment(path, number + 1 if alone else number, number, ids, reason))
    return out


def apply(found: list[Located], config: Config, notes: list[str], read: list[Comment]) -> list[Located]:
    """The findings with the config's severities and every suppression marked; a suppression that
    matched nothing becomes a note (a stale one hides the next finding on that line)."""
    by_line: dict[tuple[Path, int], list[Comment]] = {}
    for c in read:
        by_line.setdefault((c.file, c.line), []).append(c)
    out = []
    for item in found:
        f = item.finding
        hit = next(
            (c for c in by_line.get((item.place.file, item.place.line), []) if f.rule in c.rules)
            if item.place
            else None,
            None,
        )
        if hit:
            hit.used = True
            where = f"{item.place.file.name}:{hit.written}"
            out.append(replace(item, suppressed=Suppression("inSource", hit.reason, where)))
            continue
        setting = config.setting(f.rule, f.service)
        if setting and setting.severity == OFF:
            why = setting.reason or f"turned off in {config.path.name}"
            out.append(replace(item, suppressed=Suppression("external", why, str(config.path.name))))
        elif setting:
            out.append(replace(item, finding=replace(f, severity=rules.Severity(setting.severity))))
        else:
            out.append(item)
    for c in read:
        if not c.used:
            notes.append(f"{c.file.name}:{c.written}: the suppression of {', '.join(c.rules)} matched no finding")
    return out
