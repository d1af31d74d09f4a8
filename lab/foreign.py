"""`lab up -f FILE…`: any Compose project, run the safe way.

user's files -> effective config (lab.check.load) -> the rule set: refused when anything is rated high,
or with `--fix` the port findings fixed by `lab fix`'s override (kept in lab's state folder, not the
user's) -> the project's networks made by lab with `host_binding_ipv4: 127.0.0.1` -> lab's rules for
their subnets -> `compose up -d` (the user's images: built or pulled as Compose would) -> wait (Compose
healthchecks where a service has one, else every published TCP port answering) -> lab verify.

A run that fails removes what it made (containers and networks of a project that was not running;
volumes are kept) and lab's rules for it; nothing of the user's.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from pathlib import Path

from lab import check, inventory, networks, rules
from lab.check import fix, load
from lab.compose_cli import Compose, find_compose
from lab.errors import ComposeFailed, LabError, NoSuchProject, NotReady, UnsafeConfig
from lab.project import Project, check_name
from lab.rules.LAB014_bridge_binds_everywhere import OPTION
from lab.stack import ServiceRow, drop_rules, harden_rules, say
from lab.verify import generic, targets


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
    while True:
        states = inventory.states(name)
        for s in states:
            if s.state in ("exited", "dead") or s.health == "unhealthy":
                raise NotReady(s.service, f"container {s.state}" + (f" ({s.health})" if s.health else ""))
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


def up(
    files: list[Path] | None,
    directory: Path | None,
    profiles: list[str] | None,
    env_files: list[Path] | None,
    name: str | None,
    fixing: bool,
    timeout: float,
    started: Callable[[Project], None] | None = None,
) -> Project:
    """`started` is called once the containers run, before the wait (`lab up` begins its proof there)."""
    loaded = load.load(files, directory, profiles, env_files, project_name=name)
    project = Project(name=check_name(name or loaded.name))
    found, _ = check.run(loaded)
    if fixing and any(i.finding.rule in rules.FIXABLE for i in found):
        target = project.state_dir / fix.OVERRIDE_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        plan = fix.plan(loaded, output=target)
        fix.write(plan)
        say(f"fixed in memory: {plan.ports} port(s) republished on loopback ({target})")
        loaded = load.load([*loaded.files, target], loaded.directory, profiles, env_files, project_name=project.name)
        found, _ = check.run(loaded)
    _refuse(loaded, found, fixing)
    for item in found:
        say(f"warning: {item.finding.severity} {item.finding.rule} {item.finding.line()}")

    compose = Compose(
        find_compose()[0],
        project.name,
        loaded.files,
        cwd=loaded.directory,
        users_env=True,
        options=[x for f in loaded.env_files for x in ("--env-file", str(f))]
        + (["--project-directory", str(loaded.directory)] if directory else [])
        + [x for p in profiles or [] for x in ("--profile", p)],
    )
    before = [s for s in inventory.states(project.name) if s.state in ("running", "paused")]
    try:
        networks.ensure(_loopback_networks(loaded.config), project.name, loaded.compose_version)
        harden_rules(project)
        say(f"starting project {project.name}")
        compose.run("up", "--detach", timeout=1800)
        if started:
            started(project)
        wait(project.name, timeout)
    except (LabError, KeyboardInterrupt) as exc:
        if not before:  # nothing of it was running: leave nothing half-started (volumes are the user's data)
            with contextlib.suppress(ComposeFailed):
                compose.run("down", "--timeout", "5", timeout=300)
            with contextlib.suppress(LabError):
                drop_rules(project)
        if isinstance(exc, NotReady):
            with contextlib.suppress(ComposeFailed):
                exc.details = compose.run("logs", "--tail", "20", exc.service, timeout=60).stdout
        raise
    return project


def owned(project: Project) -> bool:
    """Is this project lab's own stack (started from lab's files), or someone else's of that name?"""
    return project.started_these(inventory.compose_files(project.name)[0])


def status(project: Project, timeout: float = 1.0) -> list[ServiceRow]:
    """`lab status` for a project lab did not start: each service's state and health from the engine, and
    whether each published port answers (a connect and an HTTP GET; no protocol probes)."""
    from concurrent.futures import ThreadPoolExecutor

    states = inventory.states(project.name)
    if not states:
        raise NoSuchProject(f"project {project.name} has no containers")
    eps = targets.from_bindings(inventory.bindings(project.name), inventory.containers(project.name))
    with ThreadPoolExecutor(max_workers=max(1, min(64, len(eps)))) as pool:
        seen = dict(zip(eps, pool.map(lambda e: generic.probe(e, timeout), eps), strict=True))
    rows = []
    for s in states:
        mine = [e for e in eps if e.service == s.service]
        failing = [f"{e}: {seen[e].detail}" for e in mine if seen[e].reached is False]
        detail = "; ".join(failing) if failing else ("answers" if mine else "-")
        state = f"{s.state} ({s.health})" if s.health else s.state
        rows.append(ServiceRow(s.service, " ".join(sorted(str(e) for e in mine)), state, detail, not failing))
    return rows
