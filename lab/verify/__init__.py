"""Running stack -> probes -> report: `lab verify`.

The checks run concurrently; the neighbour probe starts as soon as the published ports and
the project's containers are known, and the firewall check reads its results.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lab import engine, inventory
from lab.errors import NoSuchProject
from lab.project import Project
from lab.stack import compose_for
from lab.verify import browser, firewall, hardening, neighbour, reach, runtime, sockets, static
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
    engine.client()
    found = inventory.bindings(project.name)
    if not found:
        raise NoSuchProject(f"project {project.name} has no running containers with published ports")
    creds = project.credentials()
    if creds is None:
        raise NoSuchProject(f"project {project.name} has no credentials (was it started with `lab up`?)")
    # Every port the project publishes — the catalogue's and anything an override added.
    ports = {(e.port, e.protocol) for e in project.endpoints()} | {(b.host_port, b.protocol) for b in found}
    networks = inventory.networks(project.name)
    containers = inventory.containers(project.name, networks)
    with ThreadPoolExecutor(max_workers=8) as pool:
        nb = pool.submit(neighbour.check, ports, containers, networks, neighbour_timeout)
        futures = [
            pool.submit(reach.check, project.endpoints(), creds),
            pool.submit(browser.check, project.endpoints()),
            # Finding compose costs a process start: do it inside the task, not before the pool.
            pool.submit(lambda: static.check(compose_for(project), project.root)),
            pool.submit(runtime.check, found),
            pool.submit(lambda: hardening.check(inventory.lockdown(project.name))),
            pool.submit(sockets.check, ports),
            nb,
            pool.submit(lambda: firewall.check(project.name, nb.result())),
        ]
        report = Report(project.name)
        for future in futures:
            report.checks.extend(future.result())
    return report
