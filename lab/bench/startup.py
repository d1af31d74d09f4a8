"""Start-up figures: lab next to `docker compose` on the same files, env and images, interleaved.

"Stack down" here means the project's containers removed (`compose rm --stop`) with its network and
volumes kept, for lab's runs and compose's alike: the network, and so lab's raw-table rule for its
subnet, stays in place, so compose's reference runs never publish a container that a neighbour could
reach by direct routing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.bench.procs import Run, lab_argv, timed
from lab.bench.stats import Row, Series, Target, rotate
from lab.project import Project

WARM = Target("ratio", "<=", 0.8)
WARM_VERIFIED = Target("ratio", "<=", 1.0)
UP_RUNNING = Target("value", "<=", 0.8, "s")
VERIFY = Target("value", "<=", 0.6, "s")
API_BOOT = Target("value", "<=", 0.8, "s")
COMPOSE_WAIT = ["up", "--detach", "--wait", "--no-build", "--pull", "never"]


@dataclass
class Timelines:
    """The median run of lab and of compose, kept for the timeline plot."""

    lab: Run | None = None
    compose: Run | None = None


def _median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


class Bench:
    def __init__(self, project: Project, env: dict[str, str]):
        self.project = project
        self.env = env  # LAB_STATE_HOME etc.: the bench's own state, never the user's
        self.compose = project.compose()
        self.runs: dict[str, list[Run]] = {}

    def _port_flags(self) -> list[str]:
        return [f"--port={s}={p}" for s, p in self.project.ports.items()]

    def _lab(self, key: str, *args: str) -> float:
        run = timed(lab_argv(*args, "--project", self.project.name), env=self.env, project=self.project.name)
        self.runs.setdefault(key, []).append(run)
        return run.seconds

    def _compose(self, key: str, *args: str) -> float:
        run = timed(
            self.compose.argv(*args), env=self.compose.environ(), cwd=str(self.compose.cwd), project=self.project.name
        )
        self.runs.setdefault(key, []).append(run)
        return run.seconds

    def _down(self) -> None:
        self.compose.run("rm", "--stop", "--force", timeout=120)

    def warm(self, rounds: int) -> list[Row]:
        def after_down(fn):
            def go() -> float:
                self._down()
                return fn()

            return go

        lab_plain, lab_flags, lab_verified, compose = rotate(
            [
                after_down(lambda: self._lab("lab", "up", "--no-verify")),
                after_down(lambda: self._lab("lab-flags", "up", "--no-verify", *self._port_flags())),
                after_down(lambda: self._lab("lab-verify", "up", *self._port_flags())),
                after_down(lambda: self._compose("compose", *COMPOSE_WAIT)),
            ],
            rounds,
        )
        ref = Series(compose, "s")
        name = "`docker compose up -d --wait`, same files and env"
        return [
            Row("warm start → every service answering: `lab up --no-verify`", Series(lab_plain, "s"), name, ref, WARM),
            Row("the same with `--port` flags", Series(lab_flags, "s"), name, ref, WARM),
            Row("the same with verify (`lab up --port …`)", Series(lab_verified, "s"), name, ref, WARM_VERIFIED),
            self._api_boot(),
        ]

    def _api_boot(self) -> Row:
        """From the api container's start (the engine's event) to its first full answer (lab's probe of
        /health, every dependency ok), over every warm start of lab's."""
        figure = "API container start → first answer (`GET /health`, dependencies ok)"
        spans = [per_service(r).get("api", {}) for key in ("lab", "lab-flags", "lab-verify") for r in self.runs[key]]
        boots = [s["ready"] - s["start"] for s in spans if "ready" in s and "start" in s]
        if not boots:
            return Row(figure, target=API_BOOT, skip="no container start event seen")
        return Row(figure, Series(boots, "s"), target=API_BOOT)

    def running(self, rounds: int) -> list[Row]:
        up, compose_up = rotate(
            [lambda: self._lab("up-running", "up"), lambda: self._compose("compose-running", *COMPOSE_WAIT)], rounds
        )
        verify, ps = rotate([lambda: self._lab("verify", "verify"), lambda: self._compose("ps", "ps", "--all")], rounds)
        return [
            Row(
                "`lab up` on a stack already up (verify included)",
                Series(up, "s"),
                "`docker compose up -d --wait` on it",
                Series(compose_up, "s"),
                UP_RUNNING,
            ),
            Row(
                "`lab verify` as a command, whole suite",
                Series(verify, "s"),
                "`docker compose ps`",
                Series(ps, "s"),
                VERIFY,
            ),
        ]

    def timelines(self) -> Timelines:
        t = Timelines()
        if self.runs.get("lab-verify"):  # the whole `lab up`, proof included
            t.lab = _median_run(self.runs["lab-verify"])
        if self.runs.get("compose"):
            t.compose = _median_run(self.runs["compose"])
        return t


def per_service(run: Run) -> dict[str, dict[str, float]]:
    """Seconds from the command's start: each service's container start and its first full answer
    (lab: every endpoint of it probed ok; compose: the engine's `health_status: healthy`)."""
    out: dict[str, dict[str, float]] = {}
    for e in run.events:
        svc = e.get("service")
        if not svc:
            continue
        rel = e["t"] - run.started
        if e["status"] == "start":
            out.setdefault(svc, {})["start"] = rel
        elif e["status"].startswith("health_status: healthy"):
            out.setdefault(svc, {}).setdefault("healthy", rel)
    for m in run.marks:
        if m["event"] == "ready":
            slot = out.setdefault(m["service"], {})
            slot["ready"] = max(slot.get("ready", 0.0), m["t"] - run.started)
    return out


# The phases of `lab up` as spans, each from its mark to the mark that ends it.
SPANS = [
    ("audit", "audit", "ports"),
    ("ports, state", "ports", "images"),
    ("images", "images", "create"),
    ("network", "create", "harden"),
    ("rules", "harden", "start"),
    ("compose up", "start", "wait"),
    ("wait for answers", "wait", "up"),
    ("verify", "verify", "verified"),
]


def spans(run: Run) -> list[tuple[str, float, float]]:
    """(label, start, end) of each phase the run marked, seconds from the command's start."""
    at = {m["event"]: m["t"] - run.started for m in run.marks if m["event"] != "ready"}
    return [(label, at[a], at[b]) for label, a, b in SPANS if a in at and b in at]
