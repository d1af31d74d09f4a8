"""A verify check: named, with a target, a status and a one-line detail."""

from __future__ import annotations

from dataclasses import asdict, dataclass

PASS, FAIL, SKIP = "pass", "fail", "skip"
WARN = "warn"  # worth a look, not a failure: a choice that is the user's to make


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
