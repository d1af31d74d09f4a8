"""`lab check`: a user's Compose files -> effective config (load) -> the rule set (lab.rules) -> each
finding placed in the file and line the user wrote (locate) -> the project's settings and suppressions
(config, suppress) -> text, JSON, SARIF or annotations (formats). The same rules `lab up` refuses by."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import rules
from lab.check.load import Loaded
from lab.check.locate import Place, Sources


@dataclass(frozen=True)
class Located:
    finding: rules.Finding
    place: Place | None
    suppressed: Any = None  # a lab.check.suppress.Suppression: reported, never counted
    baseline: str | None = None  # with --baseline: "new" or "unchanged" (SARIF's baselineState)

    @property
    def counts(self) -> bool:
        """Does it count toward --fail-on (and `lab up -f`'s refusal, and `lab fix`)?"""
        return not self.suppressed and self.baseline != "unchanged"

    def as_dict(self, base: Path) -> dict:
        f = self.finding
        return {
            "rule": f.rule,
            "severity": f.severity,
            "service": f.service or None,
            "file": relative(self.place.file, base) if self.place else None,
            "line": self.place.line if self.place else None,
            "message": f.message,
            "fix": f.fix,
            "port": f.port,
            "fingerprint": f.fingerprint,
            "suppressed": self.suppressed.as_dict() if self.suppressed else None,
            "baseline": self.baseline,
        }


def relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def judge(loaded: Loaded, config_file: Path | None = None, notes: list[str] | None = None) -> list[Located]:
    """Every finding of the rule set (safe rows left out), placed in the sources, with the project's
    settings (.lab.toml or `config_file`) and suppressions applied; suppressed ones are kept, marked.
    What a suppression did not match is added to `notes`."""
    from lab.check import config, suppress

    sources = loaded.sources or Sources(loaded.files, loaded.directory)
    settings = config.load(loaded.directory, config_file)
    base = Path.cwd()
    read = [c for path, _tree in sources.trees for c in suppress.comments(path, relative(path, base))]
    ctx = rules.Context(loaded.config, loaded.name, sources.raw_port)
    found = [f for f in rules.evaluate(ctx) if not f.safe]
    placed = [Located(f, sources.place(f.anchor, f.item) if f.anchor else None) for f in found]
    order = {path: i for i, (path, _tree) in enumerate(sources.trees)}
    placed.sort(key=lambda i: (order.get(i.place.file, 99), i.place.line) if i.place else (-1, 0))
    notes = [] if notes is None else notes
    services = set(loaded.config.get("services") or {})
    notes += [f"{settings.path.name}: no service {s} in this project" for s in settings.services if s not in services]
    return suppress.apply(placed, settings, notes, read)


def run(loaded: Loaded) -> tuple[list[Located], Sources]:
    """What counts: every finding the project's settings and suppressions leave (what `lab fix` repairs
    and `lab up -f` refuses by)."""
    if loaded.sources is None:
        loaded.sources = Sources(loaded.files, loaded.directory)
    return [i for i in judge(loaded) if i.counts], loaded.sources
