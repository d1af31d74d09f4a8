"""What `lab up` shows while it works: a few lines a person can read, not every BuildKit line.

The phases come from lab's own timeline marks (bootstrap, build/built per image, start, ready per
service, verify), so the view follows the code without the code knowing about it. Modes, like Compose's
`--progress`:
- tty: a compact live view (rich) that updates in place: one line per phase, elapsed, what it waits on;
- plain (no terminal: CI, pipes): one line when a phase starts and ends, and a line every 20 s while a
  long one (a bootstrap, a first build) is still running, naming what it waits on;
- quiet: errors only.
The builds' own output goes to a log file, named at the end and when something fails.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab import timeline

MODES = ("auto", "tty", "plain", "quiet")
HEARTBEAT = 20.0  # s between "still …" lines in plain mode
_SAY = threading.Lock()
_STEP = re.compile(r"^#\d+ \[(?:\S+ )?(\d+/\d+)\] (.+)$")


@dataclass
class Phase:
    label: str
    started: float
    ended: float | None = None
    note: str = ""
    cached: int = 0
    steps: int = 0
    answering: list[str] = field(default_factory=list)


@dataclass
class View:
    mode: str
    log: Path | None = None
    phases: dict[str, Phase] = field(default_factory=dict)
    _live: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_beat: float = 0.0
    _stop: threading.Event | None = None

    # -- what the marks mean -----------------------------------------------------------------
    def on_mark(self, event: str, detail: dict) -> None:
        service = str(detail.get("service", ""))
        if event == "bootstrap":
            self._start("base", "bootstrap the Debian base image")
        elif event == "build":
            self._end("base")  # the builds need the base: it is there once the first one starts
            self._start(f"build {service}", f"build {service}")
        elif event == "built":
            self._end(f"build {service}")
        elif event == "start":
            self._end("base")
            self._start("start", "create and start the containers")
        elif event == "wait":
            self._end("start")
            self._start("wait", "wait until every service answers")
        elif event == "ready":
            self._answering("wait", service)
        elif event == "up":
            self._end("wait")
        elif event == "verify":
            self._start("verify", "verify: reach, neighbour, browser, firewall")
        elif event == "verified":
            self._end("verify")
        self._render()

    def build_line(self, service: str, line: str) -> None:
        """One line of a build's output: to the log, and its step into the view."""
        if self.log:
            with self._lock, self.log.open("a") as out:
                out.write(f"[{service}] {line}")
        phase = self.phases.get(f"build {service}")
        if phase is None:
            return
        match = _STEP.match(line.strip())
        if match:
            phase.note = f"{match.group(1)} {match.group(2)[:60]}"
            phase.steps += 1
        elif line.rstrip().endswith(" CACHED"):
            phase.cached += 1
        self._render()

    # -- phases ------------------------------------------------------------------------------
    def _start(self, key: str, label: str) -> None:
        if key in self.phases and self.phases[key].ended is None:
            return
        self.phases[key] = Phase(label, time.monotonic())
        if self.mode == "plain":
            self._say(f"{label} …")

    def _end(self, key: str) -> None:
        phase = self.phases.get(key)
        if phase is None or phase.ended is not None:
            return
        phase.ended = time.monotonic()
        if self.mode == "plain":
            self._say(f"{phase.label}: done in {phase.ended - phase.started:.1f} s{self._extra(phase)}")

    def _answering(self, key: str, service: str) -> None:
        phase = self.phases.get(key)
        if phase is not None and service not in phase.answering:
            phase.answering.append(service)
            phase.note = f"answering: {', '.join(phase.answering)}"

    @staticmethod
    def _extra(phase: Phase) -> str:
        if phase.label.startswith("build") and phase.steps:
            return f" ({phase.cached} of {phase.steps} steps cached)" if phase.cached else ""
        return f" ({phase.note})" if phase.note else ""

    def _say(self, text: str) -> None:
        with _SAY:  # the builds run in threads: one whole line at a time
            sys.stderr.write(f"lab: {text}\n")
            sys.stderr.flush()

    def __rich__(self):  # rich's Live re-renders this 4 times a second: elapsed times tick
        return self._table()

    def _render(self) -> None:
        if self.mode == "plain":
            now = time.monotonic()
            running = [p for p in self.phases.values() if p.ended is None]
            if running and now - self._last_beat > HEARTBEAT and now - running[0].started > HEARTBEAT:
                self._last_beat = now
                for p in running:
                    note = f" — {p.note}" if p.note else ""
                    self._say(f"{p.label}: still running after {now - p.started:.0f} s{note}")

    def _table(self):
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for p in self.phases.values():
            done = p.ended is not None
            took = (p.ended or now) - p.started
            mark = "[green]✓[/]" if done else "[yellow]…[/]"
            note = self._extra(p).strip(" ()") if done else p.note
            table.add_row(mark, p.label, f"{took:5.1f} s", note)
        return table

    # -- lifetime ----------------------------------------------------------------------------
    def __enter__(self) -> View:
        self._undo = timeline.listen(self.on_mark)
        if self.mode == "tty":
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self, console=Console(stderr=True), refresh_per_second=4, transient=False)
            self._live.__enter__()  # type: ignore[attr-defined]
        elif self.mode == "plain":  # a bootstrap prints nothing for a minute: the heartbeat needs a clock
            self._stop = threading.Event()
            threading.Thread(target=self._beat, daemon=True).start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(5.0):
            self._render()

    def __exit__(self, *exc: object) -> None:
        global _CURRENT
        if _CURRENT is self:
            _CURRENT = None
        self._undo()
        if self._stop is not None:
            self._stop.set()
        if self._live is not None:
            self._live.__exit__(*exc)  # type: ignore[attr-defined]
        if self.log and self.log.exists():
            self._say(f"build log: {self.log}")


_CURRENT: View | None = None


def current() -> View | None:
    return _CURRENT


def view(mode: str, log: Path | None) -> View:
    """The view for this command (`auto`: tty on a terminal, plain elsewhere); builds find it by `current`."""
    global _CURRENT
    if mode == "auto":
        mode = "tty" if sys.stderr.isatty() else "plain"
    _CURRENT = View(mode, log)
    return _CURRENT
