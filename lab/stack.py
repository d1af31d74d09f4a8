"""lab's own stack: what its `up` does at each step of lab/pipeline.py, its `down`, `status` and `logs`."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab import composefile, credentials, drift, engine, images, inventory, pipeline, portplan, rules, timeline
from lab.compose_cli import Compose, ContainerState, find_compose
from lab.errors import ComposeFailed, CredentialsDamaged, CredentialsLost, UnsafeConfig, UsageError
from lab.project import Project
from lab.readiness import Result, wait_until_ready, watch_deaths
from lab.report import say
from lab.resolve import resolve
from lab.status import ServiceRow, rows


def refuse_unsafe(compose: Compose) -> dict:
    """Raise UnsafeConfig naming the first unsafe service key; nothing has been created yet. Returns the
    effective configuration."""
    try:
        config = compose.config()
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


class LabStack(pipeline.Target):
    """lab's own stack in the pipeline: files generated from the catalogue, images lab builds, credentials
    and ports lab keeps, readiness by protocol probes, and "nothing to do" when nothing changed.

    A stack that was not running before and fails to come up (or is interrupted) is removed again, volumes
    kept; one that never started keeps nothing, credentials included."""

    def __init__(self, project: Project) -> None:
        engine.client()
        self.kind = engine.kind()
        self.v4_only = project.ipv6 and not self.kind.v6_to_v4
        if self.v4_only:
            project.ipv6 = False
        self.project = project
        self.compose = project.compose()

    def audit(self) -> list:
        for path in composefile.write(self.project.root):
            say(f"regenerated {path.name} from the catalogue")
        # What is already there is read while compose evaluates the files: all of it read-only, and nothing
        # is created or built before the audit has passed.
        with ThreadPoolExecutor(max_workers=4) as pool:
            config_f = pool.submit(refuse_unsafe, self.compose)
            listed_f = pool.submit(inventory.read, self.project.name, True)  # read once: before, drift
            volumes_f = pool.submit(_has_volumes, self.project)
            self.config = config_f.result()
            listed, self.has_volumes = listed_f.result(), volumes_f.result()
        return listed

    def network_config(self) -> dict:
        return self.config

    @property
    def compose_version(self) -> str:
        return find_compose()[1]

    def ready_to_start(self, before: list[ContainerState]) -> None:
        project = self.project
        portplan.refuse_held(project, {(p.published_port, p.protocol) for c in before for p in c.publishers})
        if self.has_volumes:
            if project.credentials() is None:
                raise CredentialsLost(project.name, project.secrets_dir)
            for problem in credentials.damaged(project.secrets_dir)[:1]:
                raise CredentialsDamaged(problem, project.name)
        # Said once nothing refuses any more: a refusal is one line, whatever the engine.
        if self.v4_only:
            say(f"{self.kind.name} cannot carry [::1] to an IPv4-only container: publishing on 127.0.0.1 only")
        if not self.kind.cgroups:
            say(f"{self.kind.name} has no cgroup controller here: memory, CPU and pids limits are not enforced")
        self._fresh = not before and not self.has_volumes
        self.found = project.snapshot()  # what this run finds: a failure puts back exactly this
        self.creds = credentials.ensure(project.secrets_dir)

    def prepare(self) -> None:
        timeline.mark("images")
        self.replaced = images.ensure_images(self.compose, self.project.root)
        self.project.save()

    def start(self, before: list[ContainerState], listed: list) -> bool:
        self.fingerprint = _fingerprint(self.config)
        changed = drift.drifted(self.config, self.project.name, listed) if before else {}
        self.unchanged = not changed and _unchanged(self.project, self.config, self.fingerprint, before)
        if self.unchanged:
            say("every container is running as configured: nothing to start")
            return False
        for service, what in sorted(changed.items()):  # compose would keep them: its config label is unchanged
            say(f"recreating {service}, changed behind lab's back: {'; '.join(what)}")
        self.compose.up("--detach", "--no-build", "--pull", "never", "--remove-orphans", say=say)
        if changed:
            self.compose.up(
                "--detach", "--no-build", "--pull", "never", "--force-recreate", "--no-deps", *sorted(changed), say=say
            )
        images.drop(self.replaced)  # the containers that ran them are recreated: now the engine lets them go
        return True

    def wait(self, timeout: float) -> list[Result]:
        return wait_until_ready(
            self.project.endpoints(hosts=self.project.hosts[:1]),
            self.creds,
            timeout=timeout,
            check_alive=watch_deaths(lambda: inventory.states(self.compose.project)),
        )

    def finish(self, before: list[ContainerState], listed: list) -> None:
        _remember(self.project, self.fingerprint, before if self.unchanged else None)

    @property
    def fresh(self) -> bool:
        return self._fresh  # nothing ran and no volume existed: a fresh project's volumes go too

    def undo(self) -> None:
        removed = self.project.restore(self.found)
        if removed:
            say(f"removed what this run made: {', '.join(removed)}")

    def explain(self, exc: ComposeFailed) -> None:
        portplan.explain_race(self.project, exc.stderr)


def up(
    project: Project, timeout: float = 180.0, hardening: bool = True, started: Callable[[Project], None] | None = None
) -> list[Result]:
    """Build what changed, start lab's stack, and return once every service answered its probe
    (lab/pipeline.py has the steps). `started` is called once the containers run, before the wait
    (`lab up` begins its proof there). An unsafe configuration is refused before anything exists."""
    return pipeline.up(LabStack(project), timeout, hardening, started)


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


def _has_volumes(project: Project) -> bool:
    return bool(engine.client().volumes.list(filters={"label": f"{inventory.PROJECT_LABEL}={project.name}"}))


def down(project: Project, volumes: bool = False) -> bool:
    """`lab down` (lab/pipeline.py): lab's own stack goes; another project of that name keeps everything
    but lab's rules for it. Returns whether the project was lab's."""
    return pipeline.down(resolve(project, stopped=True), volumes)


def status(project: Project, probe_timeout: float = 1.0, results: list[Result] | None = None) -> list[ServiceRow]:
    """lab/status.py's rows for the project (resolved here): `lab up` passes its readiness results."""
    return rows(resolve(project, stopped=True), probe_timeout, results)


def logs(project: Project, service: str | None, follow: bool = False, tail: int | None = None) -> int:
    engine.client()
    compose = project.compose()
    args = (
        ["logs", "--no-color"] + (["--follow"] if follow else []) + (["--tail", str(tail)] if tail is not None else [])
    )
    return subprocess.run(
        compose.argv(*args, *([service] if service else [])), env=compose.environ(), cwd=compose.cwd
    ).returncode
