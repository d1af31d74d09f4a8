"""A project, resolved once: what `up`, `verify`, `status`, `ports` and `down` need to know about it.

One definition of "started by lab": its containers carry lab's own compose files (Compose's config-files
label). Credentials do not decide it — root verifying a rootless user's stack holds no credentials of
theirs, and the stack is still lab's, held to the catalogue. What follows from it, in one place:
- the endpoints: what the engine published (the truth), and for lab's own stack the catalogue's endpoints
  first (a stopped service is then a failed probe, not a missing line), at the ports this user recorded, or
  the ones the engine shows when another user started it;
- what the owner promised: the catalogue's lockdown and generated files for lab's own, what the files
  declare for any other; a gap fails where lab promised it and warns where it is the owner's choice;
- where the effective configuration comes from: lab's files with the project's environment, or the files
  Compose labelled the containers with, read as `lab check` reads them.
Everything is read when first asked, once: `down` never pays for the networks, `ports` never for the config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lab import inventory, targets
from lab.catalogue import Endpoint
from lab.errors import ComposeFailed, LabError
from lab.project import Project


@dataclass(frozen=True)
class Unknown:
    """Why a project's effective configuration cannot be read: `missing` (the files are not at hand: a
    skip, never a pass) or not (they do not load: a failure)."""

    target: str
    reason: str
    missing: bool


@dataclass
class Resolved:
    project: Project
    stopped: bool = False  # stopped containers count too (`down`)

    @property
    def name(self) -> str:
        return self.project.name

    @cached_property
    def listed(self) -> list:
        """The project's containers, read once for every question below."""
        return inventory.read(self.name, stopped=self.stopped)

    @cached_property
    def labelled(self) -> tuple[list[str], str | None]:
        """The compose files and folder the project was started from, as Compose labelled its containers."""
        return inventory.compose_files(self.name, self.listed)

    @cached_property
    def by_lab(self) -> bool:
        """Started from lab's own files: lab's to take down, recreate, and hold to the catalogue."""
        return self.project.started_these(self.labelled[0])

    @cached_property
    def bindings(self) -> list[inventory.Binding]:
        return inventory.bindings(self.name, self.listed)

    @cached_property
    def networks(self) -> list[inventory.Network]:
        return inventory.networks(self.name)

    @cached_property
    def containers(self) -> list[inventory.Container]:
        return inventory.containers(self.name, self.networks, self.listed)

    @cached_property
    def endpoints(self) -> list[Endpoint]:
        seen = targets.from_bindings(self.bindings, self.containers)
        return targets.merge(self.promised.endpoints(), seen) if self.by_lab else seen

    @cached_property
    def promised(self) -> Project:
        """lab's own project at the ports it was started with: this user's record, or — when this user has
        none (another user started it on this engine) — the host ports the engine shows per service."""
        if self.project.state_file.is_file():
            return self.project
        ports = dict(self.project.ports)
        for e in targets.from_bindings(self.bindings, self.containers):
            if e.service in ports:
                ports[e.service] = e.port
        return dataclasses.replace(self.project, ports=ports)

    @property
    def credentials(self):
        """The catalogue's protocol probes need them; without (another user's stack) probes connect only."""
        return self.project.credentials() if self.by_lab else None

    def config(self) -> dict | Unknown:
        """The effective configuration: what Compose will run (or why there is none)."""
        if self.by_lab:
            try:
                return self.project.compose().config()  # `lab up` asked compose already: not again
            except (ComposeFailed, ValueError) as exc:
                return Unknown("compose config", f"could not evaluate: {str(exc)[:160]}", missing=False)
        files, directory = self.labelled
        if not files:
            return Unknown("compose files", "the containers name no compose files", missing=True)
        gone = [f for f in files if not Path(f).is_file()]
        if gone:
            return Unknown("compose files", f"not on this host any more: {gone[0]}", missing=True)
        from lab.check import load

        try:
            return load.load(
                [Path(f) for f in files], Path(directory) if directory else None, project_name=self.name
            ).config
        except LabError as exc:
            return Unknown("compose config", f"could not evaluate: {str(exc)[:160]}", missing=False)


def resolve(project: Project, stopped: bool = False) -> Resolved:
    return Resolved(project, stopped)
