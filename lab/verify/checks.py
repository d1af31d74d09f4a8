"""A verify check: named, with a target, a status and a one-line detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A check's outcome; its value is what the JSON report and the table print."""

    PASS = "pass"
    WARN = "warn"  # worth a look, not a failure: a choice that is the user's to make
    FAIL = "fail"
    SKIP = "skip"  # not proven either way: says why, never counts as a pass


PASS, WARN, FAIL, SKIP = Status.PASS, Status.WARN, Status.FAIL, Status.SKIP


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "target": self.target, "status": str(self.status), "detail": self.detail}
