"""`lab check`: a user's Compose files -> effective config (load) -> the rule set (lab.rules) -> each
finding placed in the file and line the user wrote (locate) -> text, JSON, SARIF or annotations
(formats). The same rules `lab up` refuses by."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab import rules
from lab.check.load import Loaded
from lab.check.locate import Place, Sources


@dataclass(frozen=True)
class Located:
    finding: rules.Finding
    place: Place | None

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
        }


def relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def run(loaded: Loaded) -> tuple[list[Located], Sources]:
    """Every finding of the rule set (safe rows left out), placed in the sources."""
    sources = loaded.sources or Sources(loaded.files, loaded.directory)
    ctx = rules.Context(loaded.config, loaded.name, sources.raw_port)
    found = [f for f in rules.evaluate(ctx) if not f.safe]
    placed = [Located(f, sources.place(f.anchor, f.item) if f.anchor else None) for f in found]
    order = {path: i for i, (path, _tree) in enumerate(sources.trees)}
    placed.sort(key=lambda i: (order.get(i.place.file, 99), i.place.line) if i.place else (-1, 0))
    return placed, sources
