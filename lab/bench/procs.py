"""Commands run the way a user runs them, timed from outside, with lab's marks and the engine's events."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from lab import engine, timeline
from lab.compose_cli import PROJECT_LABEL
from lab.errors import BenchFailed


@dataclass
class Run:
    """One timed command: wall seconds, lab's own marks (LAB_TIMINGS) and the project's container events."""

    argv: list[str]
    started: float  # wall clock, to line up with marks and events
    seconds: float
    marks: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def lab_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "lab", *args]


def timed(
    argv: list[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    project: str = "",
    ok: tuple[int, ...] = (0,),
) -> Run:
    """Run argv to completion (its output kept, shown only if it fails) and time it. `ok`: the exit codes
    that count as done (a check that found something exits 1, and that is its answer)."""
    with tempfile.NamedTemporaryFile(prefix="lab-timings-", suffix=".jsonl") as marks:
        run_env = {**os.environ, **(env or {}), "LAB_TIMINGS": marks.name}
        started = time.time()
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=run_env, cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        ended = time.time()
        if done.returncode not in ok:
            tail = (done.stdout + done.stderr).strip().splitlines()[-12:]
            raise BenchFailed(f"`{' '.join(argv[-6:])}` exited {done.returncode}: " + " | ".join(tail)[-600:])
        run = Run(argv, started, seconds, timeline.read(marks.name))
    if project:
        run.events = events(project, started, ended)
    return run


def events(project: str, since: float, until: float) -> list[dict]:
    """The project's container events between two wall-clock instants (create, start, health_status …)."""
    stream = engine.client().events(
        since=int(since) - 1,
        until=int(until) + 2,
        decode=True,
        filters={"type": "container", "label": f"{PROJECT_LABEL}={project}"},
    )
    found = []
    for e in stream:
        t = e.get("timeNano", 0) / 1e9
        if since <= t <= until + 1:
            attrs = e.get("Actor", {}).get("Attributes", {})
            found.append({"t": t, "status": e.get("status", ""), "service": attrs.get("com.docker.compose.service")})
    return found
