"""Figures measured side by side: samples, their medians and spread, the ratio and the target."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Series:
    """Samples of one quantity (seconds, req/s, MB …); `better` says which way is good."""

    values: list[float]
    unit: str

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self) -> str:
        med = _num(self.median, self.unit)
        if len(self.values) < 2:
            return med
        return f"{med} [{_num(min(self.values), self.unit)}–{_num(max(self.values), self.unit)}]"

    def as_dict(self) -> dict:
        return {
            "median": self.median,
            "min": min(self.values),
            "max": max(self.values),
            "n": len(self.values),
            "unit": self.unit,
            "values": self.values,
        }


def _num(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"
    if unit in ("MB", "MiB", "req/s", "MB/s"):
        return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class Target:
    """`ratio` compares lab's median with the reference's; `value` bounds lab's median itself."""

    kind: str  # "ratio" | "value"
    op: str  # "<=" | ">="
    bound: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def text(self) -> str:
        return f"{self.op} {self.bound:g}×" if self.kind == "ratio" else f"{self.op} {_num(self.bound, self.unit)}"


@dataclass
class Row:
    figure: str
    lab: Series | None = None
    reference_name: str = ""
    reference: Series | None = None
    target: Target | None = None
    skip: str = ""  # why the row was not measured: printed as "skip", never as a pass
    note: str = ""
    detail: dict = field(default_factory=dict)  # extra figures for the docs (per service, p99 …)

    @property
    def ratio(self) -> float | None:
        if self.lab is None or self.reference is None or not self.reference.median:
            return None
        return self.lab.median / self.reference.median

    @property
    def met(self) -> bool | None:
        if self.skip or self.target is None or self.lab is None:
            return None
        value = self.ratio if self.target.kind == "ratio" else self.lab.median
        return None if value is None else self.target.met(value)

    def verdict(self) -> str:
        if self.skip:
            return "skip"
        return {True: "met", False: "NOT MET", None: "-"}[self.met]

    def as_dict(self) -> dict:
        return {
            "figure": self.figure,
            "lab": self.lab.as_dict() if self.lab else None,
            "reference_name": self.reference_name,
            "reference": self.reference.as_dict() if self.reference else None,
            "ratio": self.ratio,
            "target": self.target.text() if self.target else None,
            "verdict": self.verdict(),
            "skip": self.skip or None,
            "note": self.note or None,
            "detail": self.detail or None,
        }


def rotate(variants: Sequence[Callable[[], float]], rounds: int) -> list[list[float]]:
    """Run every variant once per round, the order rotated each round (A B C, B C A, …), so that drift in
    a shared machine's load lands on every variant alike. Returns one list of samples per variant."""
    samples: list[list[float]] = [[] for _ in variants]
    for r in range(rounds):
        for k in range(len(variants)):
            i = (r + k) % len(variants)
            samples[i].append(variants[i]())
    return samples
