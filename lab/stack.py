"""Compose CLI -> running stack: up, down, status, logs for one project."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lab import composefile, credentials, drift, engine, harden, images, inventory, networks, portplan, rules, timeline
from lab.catalogue import SERVICES
from lab.compose_cli import Compose, ContainerState, find_compose
from lab.errors import (
    ComposeFailed,
    CredentialsDamaged,
    CredentialsLost,
    LabError,
    NoSuchProject,
    NotReady,
    UnsafeConfig,
    UsageError,
)
from lab.project import Project
from lab.readiness import Result, probe_all, wait_until_ready


def say(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def compose_for(project: Project) -> Compose:
    prefix, _version = find_compose()
    return Compose(prefix, project.name, project.files, project.compose_env(), cwd=project.root)


@dataclass(frozen=True)
class ServiceRow:
    service: str
    addresses: str
    state: str
    detail: str  # what failed, or "answers", or "-" when nothing was probed
    answers: bool  # every probe answered (nothing to probe counts only where nothing is promised)

    def as_dict(self) -> dict[str, str]:
        return {"service": self.service, "addresses": self.addresses, "state": self.state, "detail": self.detail}


def _running(project: str, listed: list | None = None) -> list[ContainerState]:
    """The project's live containers; a paused one still holds its ports (and `up` resumes it)."""
    return [c for c in inventory.states(project, listed) if c.state in ("running", "paused")]


_CONFIGS: dict[str, dict] = {}
_CONFIG_LOCK = threading.Lock()


def effective_config(compose: Compose) -> dict:
    """What compose will really do: every file, override and env applied (`compose config`).

    Asked once per process for the same inputs (the files' bytes, the env, the command): `lab up` audits
    it before anything starts and its verify audits it again, seconds apart."""
    digest = hashlib.sha256(json.dumps([compose.argv(), sorted(compose.environ().items())]).encode())
    for f in compose.files:
        digest.update(Path(f).read_bytes() if Path(f).is_file() else b"\0missing")
    key = digest.hexdigest()
    with _CONFIG_LOCK:  # verify's static and drift checks ask at once, from two threads: one compose call
        if key not in _CONFIGS:
            _CONFIGS[key] = json.loads(compose.run("config", "--format", "json", timeout=60).stdout)
        return _CONFIGS[key]


def refuse_unsafe(compose: Compose) -> dict:
    """Raise UnsafeConfig naming the first unsafe service key; nothing has been created yet. Returns the
    effective configuration."""
    try:
        config = effective_config(compose)
    except ComposeFailed as exc:  # a file that does not parse or load is bad input: say which, in one line
        last = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else "no output"
        raise UsageError(
            f"the compose files do not load: {last}",
            f"fix the file named; the files in use: {', '.join(str(f) for f in compose.files)}",
        ) from None
    found = rules.unsafe(config, compose.project)
    if found:
        raise UnsafeConfig(found[0].line(), len(found) - 1, [str(f) for f in compose.files])
    return config


def up(
    project: Project, timeout: float = 180.0, hardening: bool = True, started: Callable[[Project], None] | None = None
) -> list[Result]:
    """Build what changed, start the stack, and return once every service answered its probe.

    `started` is called once the containers run, before the wait (`lab up` begins its proof there).
    An unsafe configuration is refused before anything exists. A stack that was not running
    before and fails to come up (or is interrupted) is removed again, volumes kept; one that
    never started keeps nothing, credentials included.
    """
    engine.client()
    kind = engine.kind()
    v4_only = project.ipv6 and not kind.v6_to_v4
    if v4_only:
        project.ipv6 = False
    compose = compose_for(project)
    for path in composefile.write(project.root):
        say(f"regenerated {path.name} from the catalogue")
    timeline.mark("audit")
    # What is already there is read while compose evaluates the files: all of it read-only, and nothing
    # is created or built before the audit has passed.
    with ThreadPoolExecutor(max_workers=4) as pool:
        config_f = pool.submit(refuse_unsafe, compose)
        listed_f = pool.submit(inventory.read, project.name, True)  # read once: before, drift
        volumes_f = pool.submit(_has_volumes, project)
        config = config_f.result()
        listed, has_volumes = listed_f.result(), volumes_f.result()
    before = _running(project.name, listed)
    timeline.mark("ports")
    portplan.refuse_held(project, {(p.published_port, p.protocol) for c in before for p in c.publishers})
    if has_volumes:
        if project.credentials() is None:
            raise CredentialsLost(project.name, project.secrets_dir)
        for problem in credentials.damaged(project.secrets_dir)[:1]:
            raise CredentialsDamaged(problem, project.name)
    # Said once nothing refuses any more: a refusal is one line, whatever the engine.
    if v4_only:
        say(f"{kind.name} cannot carry [::1] to an IPv4-only container: publishing on 127.0.0.1 only")
    if not kind.cgroups:
        say(f"{kind.name} has no cgroup controller here: memory, CPU and pids limits are not enforced")
    fresh = not before and not has_volumes
    found = project.snapshot()  # what this run finds: a failure puts back exactly this
    creds = credentials.ensure(project.secrets_dir)
    try:
        timeline.mark("images")
        replaced = images.ensure_images(compose, project.root)
        project.save()
        say(f"starting project {project.name}")
        paused = _resume(listed)  # compose cannot start or recreate a paused container
        if paused:
            say(f"resuming paused {', '.join(paused)}")
        # The networks first (made by lab, as compose would: lab/networks.py), then lab's rules for their
        # subnets, then compose creates and starts the containers: no port is published before the rules.
        fingerprint = _fingerprint(config)
        changed = drift.drifted(config, project.name, listed) if before else {}
        unchanged = not changed and _unchanged(project, config, fingerprint, before)
        timeline.mark("create")
        made = networks.ensure(config, project.name, find_compose()[1])
        timeline.mark("harden")
        if hardening:
            harden_rules(project)
        timeline.mark("start")
        if unchanged:
            say("every container is running as configured: nothing to start")
        else:
            for service, what in sorted(changed.items()):  # compose would keep them: its config label is unchanged
                say(f"recreating {service}, changed behind lab's back: {'; '.join(what)}")
            compose.run("up", "--detach", "--no-build", "--pull", "never", "--remove-orphans")
            if changed:
                compose.run(
                    "up", "--detach", "--no-build", "--pull", "never", "--force-recreate", "--no-deps", *sorted(changed)
                )
            images.drop(replaced)  # the containers that ran them are recreated: now the engine lets them go
            again = networks.replaced(made)
            if again:  # not what compose does today (see lab/networks.py): if it ever does, rules follow
                say(f"warning: compose replaced network(s) {', '.join(again)}; applying lab's rules to them now")
                if hardening:
                    harden_rules(project)
        if started:
            started(project)
        timeline.mark("wait")
        results = wait_until_ready(
            project.endpoints(hosts=project.hosts[:1]),
            creds,
            timeout=timeout,
            check_alive=lambda: _dead_service(compose),
        )
        _remember(project, fingerprint, before if unchanged else None)
        return results
    except (LabError, KeyboardInterrupt) as exc:
        if isinstance(exc, NotReady):
            exc.details = logs_tail(compose, exc.service)
        if not before:  # nothing was running: leave nothing half-started (a fresh project's volumes too)
            _quiet_down(compose, volumes=fresh)
            with contextlib.suppress(LabError):
                drop_rules(project)
            removed = project.restore(found)
            if removed:
                say(f"removed what this run made: {', '.join(removed)}")
        if isinstance(exc, ComposeFailed):
            portplan.explain_race(project, exc.stderr)
        raise


# -- "nothing to do": compose's own `up -d` on a running, unchanged stack changes nothing, but costs a
# compose process (~0.3 s). lab skips it when the effective configuration and every image are what the
# last successful `lab up` started, and the very containers it started are all still running.
def _fingerprint(config: dict) -> str:
    images = {name: engine.image_id(svc.get("image", "")) for name, svc in (config.get("services") or {}).items()}
    return hashlib.sha256(json.dumps([config, images], sort_keys=True, default=str).encode()).hexdigest()


def _applied_file(project: Project) -> Path:
    return project.state_dir / "applied.json"


def _remember(project: Project, fingerprint: str, now: list[ContainerState] | None) -> None:
    """`now`: the containers, when this run changed none of them."""
    ids = sorted(c.id for c in (inventory.states(project.name) if now is None else now))
    with contextlib.suppress(OSError):
        _applied_file(project).write_text(json.dumps({"fingerprint": fingerprint, "containers": ids}))


def _unchanged(project: Project, config: dict, fingerprint: str, now: list[ContainerState]) -> bool:
    """`now`: the live containers read at the start of this `up` (a stopped one is missing from it)."""
    try:
        applied = json.loads(_applied_file(project).read_text())
    except (OSError, ValueError):
        return False
    return (
        applied.get("fingerprint") == fingerprint
        and sorted(c.id for c in now) == applied.get("containers")
        and all(c.state == "running" for c in now)
        and {c.service for c in now} == set(config.get("services") or {})
    )


def harden_rules(project: Project) -> None:
    why = harden.can_harden()
    if why:
        say(
            f"warning: cannot add lab's raw-table rules ({why}); run `sudo lab harden --project {project.name}`, "
            "and `sudo lab verify` to see what a neighbour can reach"
        )
        return
    added, removed = harden.sync(project.name)
    for rule in added:
        say(f"hardened: {rule}")
    for line in removed:
        say(f"removed a stale rule: {line}")


def drop_rules(project: Project) -> None:
    """A project's own rules go with its networks (the loopback pair serves every project: it stays)."""
    why = harden.can_harden()
    if why:
        say(
            f"warning: cannot remove project {project.name}'s raw-table rules, if a root run added them ({why}); "
            f"run `sudo lab harden --undo --project {project.name}`"
        )
        return
    harden.remove(project.name)


def _has_volumes(project: Project) -> bool:
    return bool(engine.client().volumes.list(filters={"label": f"{inventory.PROJECT_LABEL}={project.name}"}))


def _dead_service(compose: Compose) -> str | None:
    for c in inventory.states(compose.project):
        if c.state in ("exited", "dead") or (c.state == "restarting" and c.exit_code):
            return c.service
    return None


def logs_tail(compose: Compose, service: str, lines: int = 30) -> str:
    try:
        out = compose.run("logs", "--no-color", "--tail", str(lines), service, timeout=30)
        return (out.stdout + out.stderr).strip()
    except ComposeFailed as exc:
        return f"(no logs: {exc})"


def _quiet_down(compose: Compose, volumes: bool = False) -> None:
    with contextlib.suppress(ComposeFailed):
        compose.run("down", "--remove-orphans", "--timeout", "5", *(["--volumes"] if volumes else []), timeout=120)


def _resume(listed: list) -> list[str]:
    """Resume the paused service containers of `listed`; their services. Through the engine, not `compose
    unpause`: on Podman that finds no paused container (its list filter on status does not match)."""
    paused = [c for c in inventory.services(listed) if (c.attrs.get("State") or {}).get("Status") == "paused"]
    for c in paused:
        c.unpause()
    return sorted({c.labels.get(inventory.SERVICE_LABEL, c.name) for c in paused})


def down(project: Project, volumes: bool = False) -> bool:
    """Take lab's project down. Another project of that name (the user's own stack) keeps its containers
    and volumes: only lab's rules for it go. Returns whether the project was lab's."""
    engine.client()
    listed = inventory.read(project.name, stopped=True)
    files, _ = inventory.compose_files(project.name, listed)
    if not project.started_these(files):
        drop_rules(project)
        return False
    compose = compose_for(project)
    _resume(listed)  # Podman refuses to stop a paused container (Docker kills it)
    args = ["down", "--remove-orphans", "--timeout", "10"] + (["--volumes"] if volumes else [])
    compose.run(*args, timeout=300)
    drop_rules(project)
    if volumes:
        project.forget_all()  # credentials go with the data they unlock
    else:
        project.forget_ports()
    return True


def status(project: Project, probe_timeout: float = 1.0, results: list[Result] | None = None) -> list[ServiceRow]:
    """One row per service: compose state and health, and a live probe (or the `results` given)."""
    engine.client()
    states = {c.service: c for c in inventory.states(project.name)}
    if not states:
        raise NoSuchProject(f"project {project.name} has no containers")
    creds = project.credentials()
    if results is None:
        results = probe_all(project.endpoints(), creds, probe_timeout) if creds else []
    rows = []
    for spec in SERVICES:
        c = states.get(spec.name)
        mine = [r for r in results if r.endpoint.service == spec.name]
        state = "absent" if c is None else (f"{c.state} ({c.health})" if c.health else c.state)
        failing = [f"{r.endpoint}: {r.detail}" for r in mine if not r.ok]
        detail = "; ".join(failing) if failing else ("answers" if mine else "-")
        addresses = " ".join(sorted({str(e) for e in project.endpoints(spec.name)}))
        rows.append(ServiceRow(spec.name, addresses, state, detail, bool(mine) and not failing))
    return rows


def logs(project: Project, service: str | None, follow: bool = False, tail: int | None = None) -> int:
    engine.client()
    compose = compose_for(project)
    args = (
        ["logs", "--no-color"] + (["--follow"] if follow else []) + (["--tail", str(tail)] if tail is not None else [])
    )
    return subprocess.run(
        compose.argv(*args, *([service] if service else [])), env=compose.environ(), cwd=compose.cwd
    ).returncode
