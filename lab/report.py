"""Render results for people (aligned tables) or programs (JSON)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def say(msg: str) -> None:
    """One line for the person running lab, on stderr (stdout carries the command's result)."""
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h).upper() for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
