"""`lab doctor`: can `lab up` succeed here? One line per fact, with a fix when it is not fine."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from lab import addr, engine, enginefacts, harden, hostnet, images, inventory, portplan, ports
from lab.compose_cli import find_compose
from lab.errors import LabError
from lab.project import Project
from lab.verify import neighbour

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    name: str
    status: str
    detail: str
    hint: str = ""


def _engine() -> tuple[list[Finding], str | None]:
    try:
        version = engine.version()
    except LabError as exc:
        return [Finding("engine", FAIL, str(exc), exc.hint)], None
    facts = enginefacts.facts()
    found = [Finding("engine", OK, f"reachable: {facts.describe()}")]
    # Whether a neighbour gets in is for the probe to say, never the version: here only what the table holds.
    why = facts.lab_rules_apply
    if why:
        found.append(Finding("firewall backend", FAIL, why, "see docs/engines.md (nftables backend)"))
    elif not harden.can_harden():
        ownrules = [d for d in enginefacts.raw_drops() if d.owner == "engine" and d.verdict == "DROP"]
        found.append(
            Finding(
                "engine raw rules",
                OK,
                f"{len(ownrules)} of the engine's own raw-table DROP rules in place (lab's go in front of them)"
                if ownrules
                else "none of the engine's own: lab's rules are the only raw-table guard",
            )
        )
    k = engine.kind()
    found.append(
        Finding(
            "engine kind",
            OK if k.cgroups else WARN,
            f"{k.name}: {k.meaning()}",
            "" if k.cgroups else "verify marks the limit checks skip on this engine",
        )
    )
    return found, version


def _compose() -> Finding:
    try:
        argv, version = find_compose()
    except LabError as exc:
        return Finding("compose", FAIL, str(exc), exc.hint)
    return Finding("compose", OK, f"v{version} via `{' '.join(argv)}`")


def _base() -> Finding:
    for name in (images.OFFICIAL_BASE, images.LOCAL_BASE):
        if engine.image_id(name):
            return Finding("base image", OK, f"{name} present")
    if os.geteuid() == 0 and (shutil.which("mmdebstrap") or shutil.which("apt-get")):
        return Finding("base image", OK, f"absent; `lab up` will bootstrap {images.LOCAL_BASE} with mmdebstrap")
    return Finding(
        "base image",
        FAIL,
        "absent, and lab cannot bootstrap it here (needs root and mmdebstrap)",
        images.BaseImageUnavailable.hint,
    )


def _registry() -> Finding:
    try:
        engine.client().api.inspect_distribution(images.OFFICIAL_BASE)
        return Finding("registry", OK, "reachable (not needed: every image is built locally)")
    except Exception:  # any failure means the same thing here
        return Finding("registry", OK, "unreachable; not needed: every image is built locally")


def _firewall(project: Project, running: bool) -> Finding:
    why = harden.can_harden()
    if why:
        return Finding("firewall", WARN, f"unknown: reading the raw table {why}", "run `sudo lab doctor`")
    wanted = harden.wanted(project.name)
    missing = harden.missing(wanted)
    if not missing:
        return Finding("firewall", OK, f"lab's {len(wanted)} raw-table rules in place")
    if not running:
        return Finding(
            "firewall",
            OK,
            f"{len(missing)} of lab's rules not in place yet; `lab up` adds them before publishing anything",
        )
    return Finding(
        "firewall", WARN, "missing: " + "; ".join(str(r) for r in missing), f"run `lab harden --project {project.name}`"
    )


def _direct_routing(project: Project) -> Finding:
    seen = neighbour.direct_exposure(project.name)
    if not seen:
        return Finding("direct routing", OK, "nothing to reach: the stack is not running")
    opened = {name: s for name, s in seen.items() if s.state == "open"}
    unknown = {name: s for name, s in seen.items() if s.state == "unknown"}
    if opened:
        return Finding(
            "direct routing",
            FAIL,
            "OPEN: " + "; ".join(f"{n} {s}" for n, s in sorted(opened.items())),
            f"run `lab harden --project {project.name}`",
        )
    if unknown:
        return Finding("direct routing", WARN, str(next(iter(unknown.values()))), "run `sudo lab doctor`")
    return Finding(
        "direct routing", OK, f"closed: a neighbour routing the stack's subnet reached none of {len(seen)} containers"
    )


def _ports(project: Project) -> list[Finding]:
    findings = []
    try:
        ours = {(b.host_port, b.protocol) for b in inventory.bindings(project.name)}
    except LabError:
        ours = set()
    held = portplan.conflicts(project, ours)
    for service, port in project.ports.items():
        mine = [h for e, h in held if e.service == service]
        if any(p == port for p, _ in ours):
            findings.append(Finding(f"port {port}", OK, f"{service}: held by this project's own stack"))
        elif mine:
            h = mine[0]
            findings.append(
                Finding(
                    f"port {port}",
                    FAIL,
                    f"{service}: {h.protocol}/{h.address}:{port} held by {ports.who(h)}",
                    f"stop it, or `lab up --port {service}=PORT` / --dynamic-ports",
                )
            )
        else:
            findings.append(Finding(f"port {port}", OK, f"{service}: free"))
    return findings


def _published(project: Project) -> list[Finding]:
    """A project lab did not start: what the engine published for it, loopback or not."""
    found = []
    for b in inventory.bindings(project.name):
        where = f"{b.protocol}/{b.host_port} of {b.container}"
        if addr.is_loopback(b.host_ip):
            found.append(Finding(f"port {b.host_port}", OK, f"{where}: on {b.host_ip} only"))
        else:
            found.append(
                Finding(
                    f"port {b.host_port}",
                    FAIL,
                    f"{where}: on {addr.describe(b.host_ip)}",
                    "`lab fix` writes the override that puts it on loopback; `lab up -f FILE --fix` runs it so",
                )
            )
    return found


def run(project: Project) -> list[Finding]:
    findings, version = _engine()
    findings.append(_compose())
    findings.append(
        Finding(
            "ipv6 loopback",
            OK,
            "present: ports are also published on ::1"
            if hostnet.has_ipv6_loopback()
            else "absent: ports are published on 127.0.0.1 only",
        )
    )
    if version:
        findings += [_base(), _registry()]
    if version:
        running = bool(inventory.containers(project.name))
        findings += [_firewall(project, running), _direct_routing(project)]
    if version and not project.started_these(inventory.compose_files(project.name)[0]):
        return findings + _published(project)  # someone else's project: lab's own ports are not the question
    findings += _ports(project)
    return findings
