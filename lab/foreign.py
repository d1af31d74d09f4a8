"""`lab up -f FILE…`: any Compose project, run the safe way (the steps: lab/pipeline.py).

user's files -> effective config (lab.check.load) -> the rule set: refused when anything is rated high,
or with `--fix` the port findings fixed by `lab fix`'s override (kept in lab's state folder, not the
user's) -> the project's networks made by lab with `host_binding_ipv4: 127.0.0.1` -> lab's rules for
their subnets -> `compose up -d` (the user's images: built or pulled as Compose would) -> wait (Compose
healthchecks where a service has one, else every published TCP port answering) -> lab verify.

A run that fails removes what it made (containers and networks of a project that was not running;
volumes are kept) and lab's rules for it; nothing of the user's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path

from lab import check, inventory, pipeline, rules, targets
from lab.check import fix, load
from lab.compose_cli import Compose, ContainerState, find_compose
from lab.errors import NotReady, UnsafeConfig
from lab.project import Project, check_name
from lab.readiness import Result, watch_deaths
from lab.report import say
from lab.rules.LAB014_bridge_binds_everywhere import OPTION
from lab.verify import generic


def _refuse(loaded: load.Loaded, found: list[check.Located], fixing: bool) -> None:
    high = [i for i in found if i.finding.severity == rules.HIGH]
    if high:
        first = high[0]
        where = f" ({first.place.file.name}:{first.place.line})" if first.place else ""
        error = UnsafeConfig(first.finding.line() + where, len(high) - 1, [str(f) for f in loaded.files])
        error.hint = (
            "`lab check` lists them; what lab cannot fix needs a change to the file"
            if fixing or not any(i.finding.rule in rules.FIXABLE for i in high)
            else "`lab up --fix` republishes the ports on loopback (nothing else changes); `lab check` lists them"
        )
        raise error


def _loopback_networks(config: dict) -> dict:
    """The config with every project bridge defaulting to loopback bindings, as lab makes them."""
    config = copy.deepcopy(config)
    for spec in (config.get("networks") or {}).values():
        if spec.get("external") or (spec.get("driver") or "bridge") != "bridge":
            continue
        spec.setdefault("driver_opts", {}).setdefault(OPTION, "127.0.0.1")
    return config


def wait(
    name: str,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Until every service with a healthcheck is healthy and every published TCP port of the others
    accepts a connection; a container that exits or turns unhealthy ends the wait at once."""
    deadline = clock() + timeout
    states: list[ContainerState] = []

    def read() -> list[ContainerState]:
        states[:] = inventory.states(name)
        return states

    dead = watch_deaths(read)
    while True:
        gone = dead()
        if gone:
            raise NotReady(*gone)
        for s in states:
            if s.health == "unhealthy":
                raise NotReady(s.service, "its container is unhealthy")
        checked = {s.name for s in states if s.health}
        pending = [s.service for s in states if s.health and s.health != "healthy"]
        found = [b for b in inventory.bindings(name) if b.container not in checked and b.protocol == "tcp"]
        eps = targets.from_bindings(found, inventory.containers(name))
        pending += [f"{e.service} {e}" for e in eps if not generic.connects(e, 0.5)]
        if not pending:
            return
        if clock() > deadline:
            raise NotReady(pending[0].split()[0], f"not ready after {timeout:.0f} s: {', '.join(pending)}")
        sleep(0.2)


class AnyProject(pipeline.Target):
    """A project lab did not write, in the pipeline: audited by the rule set (refused when anything is
    rated high; with `fixing`, its port findings fixed by `lab fix`'s override, kept in lab's state
    folder), its networks defaulting to loopback bindings, its images built or pulled as Compose would,
    readiness by its healthchecks or its published ports. A failed first start removes its containers
    and networks and lab's rules for it; its volumes are its owner's data and stay."""

    remove_orphans = False

    def __init__(
        self,
        files: list[Path] | None,
        directory: Path | None,
        profiles: list[str] | None,
        env_files: list[Path] | None,
        name: str | None,
        fixing: bool,
    ) -> None:
        self.loaded = load.load(files, directory, profiles, env_files, project_name=name)
        self.project = Project(name=check_name(name or self.loaded.name))
        self.directory, self.profiles, self.env_files, self.fixing = directory, profiles, env_files, fixing

    def audit(self) -> list:
        loaded, project = self.loaded, self.project
        found, _ = check.run(loaded)
        if self.fixing and any(i.finding.rule in rules.FIXABLE for i in found):
            target = project.state_dir / fix.OVERRIDE_NAME
            target.parent.mkdir(parents=True, exist_ok=True)
            plan = fix.plan(loaded, output=target)
            fix.write(plan)
            say(f"fixed in memory: {plan.ports} port(s) republished on loopback ({target})")
            loaded = load.load(
                [*loaded.files, target], loaded.directory, self.profiles, self.env_files, project_name=project.name
            )
            found, _ = check.run(loaded)
        _refuse(loaded, found, self.fixing)
        for item in found:
            say(f"warning: {item.finding.severity} {item.finding.rule} {item.finding.line()}")
        self.loaded = loaded
        self.compose = Compose(
            find_compose()[0],
            project.name,
            loaded.files,
            cwd=loaded.directory,
            users_env=True,
            options=[x for f in loaded.env_files for x in ("--env-file", str(f))]
            + (["--project-directory", str(loaded.directory)] if self.directory else [])
            + [x for p in self.profiles or [] for x in ("--profile", p)],
        )
        return inventory.read(project.name, stopped=True)

    def network_config(self) -> dict:
        return _loopback_networks(self.loaded.config)

    @property
    def compose_version(self) -> str:
        return self.loaded.compose_version

    def ready_to_start(self, before: list[ContainerState]) -> None:
        pass

    def wait(self, timeout: float) -> list[Result]:
        wait(self.project.name, timeout)
        return []
