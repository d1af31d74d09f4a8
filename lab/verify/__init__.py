"""Running stack -> probes -> report: `lab verify`.

The checks run concurrently; the neighbour probe starts as soon as the published ports and
the project's containers are known, and the firewall check reads its results. `begin` starts every
check that needs only the containers; `lab up` calls it before it waits for the services.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from lab import drift, engine, inventory
from lab.catalogue import Endpoint
from lab.credentials import Credentials
from lab.errors import NoSuchProject
from lab.project import Project
from lab.stack import compose_for, effective_config
from lab.verify import browser, firewall, hardening, neighbour, reach, runtime, sockets, static, targets
from lab.verify.checks import FAIL, Check


@dataclass
class Report:
    project: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == FAIL for c in self.checks)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "project": self.project, "checks": [c.as_dict() for c in self.checks]}


def run(project: Project, neighbour_timeout: float = 0.3) -> Report:
    """One verifier for every project. The targets come from the engine's inventory of the project; for
    lab's own (it holds the credentials) the catalogue enriches them: its endpoints, protocol probes, the
    paths the browser check attacks, the hardening it promises. Another project gets the same checks
    with what any port allows (connect, HTTP) and its hardening gaps as warnings."""
    return begin(project, neighbour_timeout).report()


def begin(project: Project, neighbour_timeout: float = 0.3) -> Proof:
    """Start the run and return at once. Most of the proof needs the containers, not the services: the
    static audit, the engine's bindings, the host's sockets, the containers' drift, the neighbour probe
    (a refused connection proves a path as well as an answer does) and the firewall rules. `lab up`
    begins as soon as compose has started the containers, so all that runs while the services boot;
    `Proof.report()` adds what needs them up: reach, the browser's attacks, and the hardening check,
    which reads PID 1's user and capabilities (an entrypoint runs as root until it drops them)."""
    return Proof(project, neighbour_timeout)


@dataclass
class _Found:
    """The inventory a run works from, read once."""

    endpoints: list[Endpoint]
    creds: Credentials | None
    own: bool
    cgroups: bool
    early: list[Future]  # in report order, after reach, browser and hardening
    config: Future  # the effective config (a dict), or the Check saying why there is none


def _declared(config: dict | Check) -> dict[str, set[str]] | None:
    return hardening.declared(config) if isinstance(config, dict) else None


class Proof:
    def __init__(self, project: Project, neighbour_timeout: float) -> None:
        self.project = project
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lab-verify")
        self._found = self._pool.submit(self._start, neighbour_timeout)

    def _start(self, neighbour_timeout: float) -> _Found:
        project, pool = self.project, self._pool
        engine.client()
        listed = inventory.read(project.name)  # one view of the engine for every check that needs one
        found = inventory.bindings(project.name, listed)
        networks = inventory.networks(project.name)
        containers = inventory.containers(project.name, networks, listed)
        files, directory = inventory.compose_files(project.name, listed)
        own = project.started_these(files)
        creds = project.credentials() if own else None
        own = own and creds is not None
        if not containers or (own and not found):
            raise NoSuchProject(
                f"project {project.name} has no running containers" + (" with published ports" if containers else ""),
                hint=f"start it (`lab up --project {project.name}`, or `docker compose -p {project.name} up -d`); "
                "`docker compose ls` lists the projects by the names Compose gave them",
            )
        seen = targets.from_bindings(found, containers)
        endpoints = targets.merge(project.endpoints(), seen) if own else seen
        # Every port the project publishes — the catalogue's and anything an override added.
        ports = {(e.port, e.protocol) for e in endpoints} | {(b.host_port, b.protocol) for b in found}
        nb = pool.submit(neighbour.probe, ports, containers, networks, neighbour_timeout)
        # The effective config, asked once (finding compose costs a process start: inside the task): the
        # static audit reads it, and hardening learns from it which mounts the project declared.
        config = pool.submit(
            lambda: (
                static.own_config(compose_for(project))
                if own
                else static.foreign_config(project.name, files, directory)
            )
        )
        early = [
            pool.submit(
                lambda: (
                    static.check(compose_for(project), project.root, config.result())
                    if own
                    else static.check_foreign(project.name, config.result())
                )
            ),
            pool.submit(runtime.check, found),
            *(
                [pool.submit(lambda: drift.check(effective_config(compose_for(project)), project.name, listed))]
                if own
                else []
            ),
            pool.submit(sockets.check, ports),
            pool.submit(lambda: nb.result().checks()),
            pool.submit(lambda: firewall.check(project.name, nb.result())),
        ]
        return _Found(endpoints, creds, own, engine.kind().cgroups, early, config)

    def report(self) -> Report:
        """The whole report, once the services answer (the caller waited for that)."""
        try:
            found = self._found.result()
            name, own = self.project.name, found.own
            late = [
                self._pool.submit(reach.check, found.endpoints, found.creds),
                self._pool.submit(browser.check, found.endpoints, own),
                self._pool.submit(
                    lambda: hardening.check(
                        inventory.lockdown(name), own, found.cgroups, _declared(found.config.result())
                    )
                ),
            ]
            report = Report(self.project.name)
            for future in [*late, *found.early]:
                report.checks.extend(future.result())
            return report
        finally:
            self._pool.shutdown(wait=True)

    def abandon(self) -> None:
        """The start failed: let the checks under way finish their own cleanup (namespaces, rules), and
        drop what they found."""
        self._pool.shutdown(wait=True, cancel_futures=True)
