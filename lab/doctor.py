"""`lab doctor`: can `lab up` succeed here? One line per fact, with a fix when it is not fine."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from lab import engine, harden, hostnet, images, portplan, ports
from lab.compose_cli import find_compose
from lab.errors import LabError
from lab.project import Project
from lab.verify import runtime

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
    fixed = engine.has_loopback_fix(version)
    return [Finding("engine", OK, f"docker {version} reachable; "
                    + ("has the 28.0.0 loopback fix" if fixed else "lacks the 28.0.0 loopback fix"))], version


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
    return Finding("base image", FAIL, "absent, and lab cannot bootstrap it here (needs root and mmdebstrap)",
                   images.BaseImageUnavailable.hint)


def _registry() -> Finding:
    try:
        engine.client().api.inspect_distribution(images.OFFICIAL_BASE)
        return Finding("registry", OK, "reachable (not needed: every image is built locally)")
    except Exception:  # any failure means the same thing here
        return Finding("registry", OK, "unreachable; not needed: every image is built locally")


def _hardening(version: str | None) -> Finding:
    why = harden.can_harden()
    if version and engine.has_loopback_fix(version):
        return Finding("hardening", OK, "not needed (engine has the fix)")
    if why:
        return Finding("hardening", FAIL, f"engine lacks the fix and lab cannot harden ({why})",
                       "run `sudo lab harden` (or run lab as root)")
    state = harden.state()
    if state.get("127.0.0.0/8"):
        return Finding("hardening", OK, "raw-table rules in place")
    return Finding("hardening", OK, "not in place yet; `lab up` adds the raw-table rules")


def _ports(project: Project) -> list[Finding]:
    findings = []
    try:
        ours = {(b.host_port, b.protocol) for b in runtime.bindings(project.name)}
    except LabError:
        ours = set()
    held = portplan.conflicts(project, ours)
    for service, port in project.ports.items():
        mine = [h for e, h in held if e.service == service]
        if any(p == port for p, _ in ours):
            findings.append(Finding(f"port {port}", OK, f"{service}: held by this project's own stack"))
        elif mine:
            h = mine[0]
            findings.append(Finding(f"port {port}", FAIL, f"{service}: {h.protocol}/{h.address}:{port} held by "
                                    f"{ports.who(h)}", f"stop it, or `lab up --port {service}=PORT` / --dynamic-ports"))
        else:
            findings.append(Finding(f"port {port}", OK, f"{service}: free"))
    return findings


def run(project: Project) -> list[Finding]:
    findings, version = _engine()
    findings.append(_compose())
    findings.append(Finding("ipv6 loopback", OK, "present: ports are also published on ::1"
                            if hostnet.has_ipv6_loopback() else "absent: ports are published on 127.0.0.1 only"))
    if version:
        findings += [_base(), _registry()]
    findings.append(_hardening(version))
    findings += _ports(project)
    return findings
