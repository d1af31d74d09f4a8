"""The host's root or a sensitive host path bind-mounted: /, /etc, /root, home directories, /proc,
/sys, /dev, /boot, /usr, the engines' own storage.

A mount of such a path (or of a directory above one) is the finding; a path *inside* one is judged
milder, and only when writable: `/etc/localtime:ro` and a project folder under /home are what
people really write, and are not a host escape. Read-only `/`, /etc, /root and homes stay high
(they hold keys and passwords); read-only /proc, /sys, /dev, /usr are medium (monitoring agents
mount them to read the host)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from lab.rules import HIGH, MEDIUM, Context, Finding, Rule
from lab.rules.LAB008_engine_socket import is_engine_socket

RULE = Rule(
    "LAB009",
    "sensitive-host-path",
    HIGH,
    "the host's root or a sensitive host path mounted",
    "mount only the project's own files (a path under the project), read-only where it can be",
    ("compose-lint CL-0013, CL-0025", "CIS Docker Benchmark 5.5"),
)

SECRET = ("/", "/etc", "/root", "/home", "/var/lib/docker", "/var/lib/containers")  # high even read-only
SYSTEM = ("/proc", "/sys", "/dev", "/boot", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/var", "/var/log")
# Writable paths inside these are still the host's; inside homes and /root they are usually projects.
INSIDE = ("/etc", "/var/lib/docker", "/var/lib/containers", "/proc", "/sys", "/dev", "/boot", "/usr", "/lib")


def _homes() -> set[str]:
    homes = {str(Path.home())}
    if os.path.isdir("/home"):
        homes |= {f"/home/{d}" for d in os.listdir("/home")}
    return homes - {"/"}


def judge(source: str, read_only: bool) -> tuple[str, str] | None:
    """(severity, why) for a bind source, or None when it is not sensitive."""
    path = PurePosixPath(os.path.normpath(source))
    text = str(path)
    homes = _homes()
    sensitive = (*SECRET, *SYSTEM, *homes)
    if text == "/":
        return HIGH, "the host's whole file system"
    if text in SECRET or text in homes:
        return HIGH, "holds the host's keys and passwords" + ("" if read_only else "; writable")
    if text in SYSTEM:
        return (MEDIUM, "reads the host's system state") if read_only else (HIGH, "writable host system path")
    if any(PurePosixPath(s).is_relative_to(path) for s in sensitive if s != "/"):  # a parent of one: /var
        return HIGH, "contains sensitive host paths"
    if not read_only and any(path.is_relative_to(s) for s in INSIDE):
        return MEDIUM, "a writable path inside a sensitive host directory"
    return None


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for mount in svc.get("volumes") or []:
            if not (isinstance(mount, dict) and mount.get("type") == "bind"):
                continue
            source = mount.get("source") or ""
            if not source.startswith("/") or is_engine_socket(source):  # sockets: LAB008
                continue
            verdict = judge(source, bool(mount.get("read_only")))
            if verdict:
                severity, why = verdict
                yield Finding(
                    RULE.id,
                    severity,
                    name,
                    f"volumes {source}",
                    f"mounted at {mount.get('target')}" + (" read-only" if mount.get("read_only") else ""),
                    why,
                    RULE.fix,
                    anchor=("services", name, "volumes"),
                    item=source,
                )
