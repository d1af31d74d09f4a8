"""One `up` and one `down` for every project: lab's own stack (lab/stack.py) and any Compose project
(lab/foreign.py) run the same steps; a `Target` supplies only what differs between them.

up:   hold the project's lock (lab/runlock.py) -> audit: an unsafe configuration is refused before
      anything exists -> what must be true before anything starts (ports free, credentials) -> what must
      exist first (images, state) -> resume paused containers -> the networks, made by lab with loopback
      bindings (lab/networks.py) -> lab's firewall rules for their subnets (lab/harden.py) -> compose up:
      no port is published before the rules -> `started` (lab up begins its proof there) -> wait until
      every service is ready -> remember what was started.
      A run that fails on a project that was not running removes what it made (containers, networks,
      rules, its state files; volumes only when it made them) and names the service that failed, its logs
      attached.
down: hold the lock -> lab's own stack: compose down, its rules, its recorded state; anyone else's
      project of that name: only lab's rules for it (its containers and volumes are its owner's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from lab import harden, inventory, networks, runlock, timeline
from lab.compose_cli import Compose, ContainerState
from lab.errors import ComposeFailed, LabError, NotReady
from lab.project import Project
from lab.readiness import Result
from lab.report import say
from lab.resolve import Resolved


class Target:
    """What one kind of project does at each step; the defaults are any Compose project's."""

    project: Project
    compose: Compose
    remove_orphans = True  # on a failed first start: containers of the project that its files no longer name

    def audit(self) -> list:
        """Refuse an unsafe configuration (raise), nothing created yet; return the project's containers
        as the engine lists them (stopped ones too)."""
        raise NotImplementedError

    def network_config(self) -> dict:
        """The configuration whose networks lab makes before compose starts anything."""
        raise NotImplementedError

    @property
    def compose_version(self) -> str:
        raise NotImplementedError

    def ready_to_start(self, before: list[ContainerState]) -> None:
        """Refuse what would fail once things exist (a held port, lost credentials): nothing made yet."""

    def prepare(self) -> None:
        """What must exist before the containers (images, state)."""

    def start(self, before: list[ContainerState], listed: list) -> bool:
        """compose up; whether compose ran (it may have nothing to do)."""
        self.compose.up("--detach", timeout=1800, say=say)
        return True

    def wait(self, timeout: float) -> list[Result]:
        raise NotImplementedError

    def finish(self, before: list[ContainerState], listed: list) -> None:
        """After a successful run."""

    @property
    def fresh(self) -> bool:
        """A failed first start also removes the volumes (only those it made itself)."""
        return False

    def undo(self) -> None:
        """A failed first start: put back what the run changed outside the engine (state files)."""

    def explain(self, exc: ComposeFailed) -> None:
        """Say more about a compose failure, when there is more to say."""


def running(project: str, listed: list | None = None) -> list[ContainerState]:
    """The project's live containers; a paused one still holds its ports (and `up` resumes it)."""
    return [c for c in inventory.states(project, listed) if c.state in ("running", "paused")]


def up(
    target: Target, timeout: float, hardening: bool = True, started: Callable[[Project], None] | None = None
) -> list[Result]:
    """Start `target` and return once every service is ready (the readiness results). `started` is
    called once the containers run, before the wait."""
    with runlock.held(target.project.name, "up", say=say):
        return _up(target, timeout, hardening, started)


def _up(t: Target, timeout: float, hardening: bool, started: Callable[[Project], None] | None) -> list[Result]:
    name = t.project.name
    timeline.mark("audit")
    listed = t.audit()
    before = running(name, listed)
    timeline.mark("ports")
    t.ready_to_start(before)
    try:
        t.prepare()
        say(f"starting project {name}")
        paused = _resume(listed)  # compose cannot start or recreate a paused container
        if paused:
            say(f"resuming paused {', '.join(paused)}")
        # The networks first (made by lab, as compose would: lab/networks.py), then lab's rules for their
        # subnets, then compose creates and starts the containers: no port is published before the rules.
        timeline.mark("create")
        made = networks.ensure(t.network_config(), name, t.compose_version)
        timeline.mark("harden")
        if hardening:
            harden.add_project_rules(name)
        timeline.mark("start")
        ran = t.start(before, listed)
        again = networks.replaced(made) if ran else []
        if again:  # not what compose does today (see lab/networks.py): if it ever does, rules follow
            say(f"warning: compose replaced network(s) {', '.join(again)}; applying lab's rules to them now")
            if hardening:
                harden.add_project_rules(name)
        if started:
            started(t.project)
        timeline.mark("wait")
        results = t.wait(timeout)
        t.finish(before, listed)
        return results
    except (LabError, KeyboardInterrupt) as exc:
        if isinstance(exc, NotReady):
            exc.details = logs_tail(t.compose, exc.service)
        if not before:  # nothing was running: leave nothing half-started
            _quiet_down(t.compose, volumes=t.fresh, orphans=t.remove_orphans)
            with contextlib.suppress(LabError):
                harden.remove_project_rules(name)
            t.undo()
        if isinstance(exc, ComposeFailed):
            t.explain(exc)
        raise


def down(r: Resolved, volumes: bool = False) -> bool:
    """Take lab's project down. Another project of that name (the user's own stack) keeps its containers
    and volumes: only lab's rules for it go. Returns whether the project was lab's."""
    with runlock.held(r.name, "down", say=say):
        if not r.by_lab:
            harden.remove_project_rules(r.name)
            return False
        _resume(r.listed)  # Podman refuses to stop a paused container (Docker kills it)
        args = ["down", "--remove-orphans", "--timeout", "10"] + (["--volumes"] if volumes else [])
        r.project.compose().run(*args, timeout=300)
        harden.remove_project_rules(r.name)
        if volumes:
            r.project.forget_all()  # credentials go with the data they unlock
        else:
            r.project.forget_ports()
        return True


def logs_tail(compose: Compose, service: str, lines: int = 30) -> str:
    try:
        out = compose.run("logs", "--no-color", "--tail", str(lines), service, timeout=30)
        return (out.stdout + out.stderr).strip()
    except ComposeFailed as exc:
        return f"(no logs: {exc})"


def _quiet_down(compose: Compose, volumes: bool = False, orphans: bool = True) -> None:
    args = ["down", "--timeout", "5", *(["--remove-orphans"] if orphans else []), *(["--volumes"] if volumes else [])]
    with contextlib.suppress(ComposeFailed):
        compose.run(*args, timeout=300)


def _resume(listed: list) -> list[str]:
    """Resume the paused service containers of `listed`; their services. Through the engine, not `compose
    unpause`: on Podman that finds no paused container (its list filter on status does not match)."""
    paused = [c for c in inventory.services(listed) if (c.attrs.get("State") or {}).get("Status") == "paused"]
    for c in paused:
        c.unpause()
    return sorted({c.labels.get(inventory.SERVICE_LABEL, c.name) for c in paused})
