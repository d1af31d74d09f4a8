"""The bench's results as a table, as JSON, and as docs/benchmarks.md (with the machine and the command)."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from lab import engine
from lab.bench.stats import Row
from lab.report import table


def machine() -> dict:
    info = {}
    try:
        info["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "unknown"
    info["cores"] = os.cpu_count()
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        info["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["kernel"] = platform.release()
    info["python"] = platform.python_version()
    info["docker_engine"] = engine.version()
    try:
        os_release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        )
        info["os"] = os_release.get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    return info


def _ratio(row: Row) -> str:
    return f"{row.ratio:.2f}×" if row.ratio is not None else "-"


def _cells(row: Row) -> tuple[str, ...]:
    if row.skip:
        return (row.figure, "skip", row.skip, "-", row.target.text() if row.target else "-", "skip")
    return (
        row.figure,
        row.lab.text() if row.lab else "-",
        f"{row.reference.text()} ({row.reference_name})" if row.reference else "-",
        _ratio(row),
        row.target.text() if row.target else "-",
        row.verdict(),
    )


HEADERS = ["figure", "lab: median [min–max]", "reference, same run", "ratio", "target", "verdict"]


def text(rows: list[Row]) -> str:
    return table(HEADERS, [_cells(r) for r in rows])


def as_json(rows: list[Row], meta: dict) -> str:
    return json.dumps({**meta, "rows": [r.as_dict() for r in rows]}, indent=2)


def markdown(rows: list[Row], meta: dict, plots: list[Path], out: Path) -> str:
    def cell(v: str) -> str:
        return v.replace("|", "\\|")

    lines = [
        "# Benchmarks",
        "",
        "Written by `lab bench` from one run on the machine below; every figure is next to its reference "
        "measured in the same run (start-ups as interleaved rounds, the order rotated each round), with the "
        "median, the [min–max] of the rounds, the ratio lab ÷ reference and the target.",
        "",
        f"Reproduce: `{meta['command']}` (the figures are this machine's; a shared machine is noisy, so compare "
        "ratios, not seconds, across machines).",
        "",
        f"Run: {meta['date']}, {meta['rounds']} rounds per start-up figure, commit `{meta.get('commit', '?')}`.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(cell(c) for c in _cells(r)) + " |" for r in rows]
    notes = [f"- **{r.figure}**: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "## Notes per figure", "", *notes]
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in meta["machine"].items()]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p.stem}]({p.relative_to(out.parent).as_posix()})" for p in plots]
    if meta.get("method"):
        lines += ["", "## How each figure is measured", "", *[f"- {m}" for m in meta["method"]]]
    return "\n".join(lines) + "\n"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
