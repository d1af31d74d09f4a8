"""Running stack -> probes -> report: one `lab verify` run (lab/verify/__init__.py offers it).

The checks run concurrently; the neighbour probe starts as soon as the published ports and
the project's containers are known, and the firewall check reads its results. `begin` starts every
check that needs only the containers; `lab up` calls it before it waits for the services.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from lab import engine, inventory
from lab.catalogue import Endpoint
from lab.credentials import Credentials
from lab.errors import NoSuchProject
from lab.project import Project
from lab.resolve import Resolved, Unknown, resolve
from lab.verify import asdeclared, browser, firewall, lockdown, neighbour, reach, runtime, sockets, static
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
    """One verifier for every project, reading what `lab.resolve` says of it: the targets are what the
    engine published; for lab's own stack the catalogue adds its endpoints, protocol probes, the paths the
    browser check attacks and the lockdown it promises. Another project gets the same checks with what any
    port allows (connect, HTTP) and its lockdown gaps as warnings."""
    return begin(project, neighbour_timeout).report()


def begin(project: Project, neighbour_timeout: float = 0.3) -> Proof:
    """Start the run and return at once. Most of the proof needs the containers, not the services: the
    static audit, the engine's bindings, the host's sockets, the containers' drift, the neighbour probe
    (a refused connection proves a path as well as an answer does) and the firewall rules. `lab up`
    begins as soon as compose has started the containers, so all that runs while the services boot;
    `Proof.report()` adds what needs them up: reach, the browser's attacks, and the lockdown check,
    which reads PID 1's user and capabilities (an entrypoint runs as root until it drops them)."""
    return Proof(project, neighbour_timeout)


@dataclass
class _Found:
    """The inventory a run works from, read once."""

    endpoints: list[Endpoint]
    creds: Credentials | None
    by_lab: bool
    cgroups: bool
    early: list[Future]  # in report order, after reach, browser and lockdown
    config: Future  # the effective config (a dict), or why there is none


def _declared(config: dict | Unknown) -> dict[str, set[str]] | None:
    return lockdown.declared(config) if isinstance(config, dict) else None


def _drift(r: Resolved, config: dict | Unknown) -> list[Check]:
    """Only lab's own stack is put back by `lab up` when it drifts; another's is its owner's to run."""
    return asdeclared.check(config, r.name, r.listed) if r.by_lab and isinstance(config, dict) else []


class Proof:
    def __init__(self, project: Project, neighbour_timeout: float) -> None:
        self.project = project
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lab-verify")
        self._found = self._pool.submit(self._start, neighbour_timeout)

    def _start(self, neighbour_timeout: float) -> _Found:
        pool = self._pool
        engine.client()
        r = resolve(self.project)  # one view of the engine for every check that needs one
        found, networks, containers = r.bindings, r.networks, r.containers
        if not containers or (r.by_lab and not found):
            raise NoSuchProject(
                f"project {r.name} has no running containers" + (" with published ports" if containers else ""),
                hint=f"start it (`lab up --project {r.name}`, or `docker compose -p {r.name} up -d`); "
                "`docker compose ls` lists the projects by the names Compose gave them",
            )
        endpoints = r.endpoints
        # Every port the project publishes — the catalogue's and anything an override added.
        ports = {(e.port, e.protocol) for e in endpoints} | {(b.host_port, b.protocol) for b in found}
        nb = pool.submit(neighbour.probe, ports, containers, networks, neighbour_timeout)
        # The effective config, asked once (finding compose costs a process start: inside the task): the
        # static audit reads it, and lockdown learns from it which mounts the project declared.
        config = pool.submit(r.config)
        generated_from = self.project.root if r.by_lab else None
        early = [
            pool.submit(lambda: static.check(r.name, config.result(), generated_from)),
            pool.submit(runtime.check, found),
            pool.submit(lambda: _drift(r, config.result())),
            pool.submit(sockets.check, ports),
            pool.submit(lambda: nb.result().checks()),
            pool.submit(lambda: firewall.check(r.name, nb.result())),
        ]
        return _Found(endpoints, r.credentials, r.by_lab, engine.kind().cgroups, early, config)

    def report(self) -> Report:
        """The whole report, once the services answer (the caller waited for that)."""
        try:
            found = self._found.result()
            name = self.project.name
            late = [
                self._pool.submit(reach.check, found.endpoints, found.creds),
                self._pool.submit(browser.check, found.endpoints, found.by_lab),
                self._pool.submit(
                    lambda: lockdown.check(
                        inventory.lockdown(name), found.by_lab, found.cgroups, _declared(found.config.result())
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
