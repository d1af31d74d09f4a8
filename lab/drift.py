"""Declared vs live: which running containers no longer match the effective configuration.

Compose recreates a container only when its config hash label changes; `docker update` (a restart policy,
limits) or a hand-made change leaves the label as it was, so `compose up` keeps the drifted container and
verify reports the same failure on every run. lab compares what it can read back from the engine with
what the project declares, and `lab up` recreates what differs (issue 20).
"""

from __future__ import annotations

from typing import Any

from lab import caps, inventory
from lab.inventory import SERVICE_LABEL


def differences(declared: dict[str, Any], host: dict[str, Any], bounding: frozenset[str] | None = None) -> list[str]:
    """What a container's HostConfig says that its service's effective config does not (words per key);
    `bounding`: its PID 1's capabilities from the kernel, which outweigh the engine's lists (caps.py)."""
    found = []
    restart = declared.get("restart") or "no"
    live_restart = (host.get("RestartPolicy") or {}).get("Name") or "no"
    if restart != live_restart:
        found.append(f"restart policy {live_restart} (declared {restart})")
    want = caps.kept(declared.get("cap_add"), declared.get("cap_drop"))
    if bounding is None or host.get("Privileged"):  # privileged: every capability, whatever the lists say
        live = caps.kept(host.get("CapAdd"), host.get("CapDrop"))
    else:
        live = bounding
    if want != live:
        found.append(f"capabilities {', '.join(sorted(live)) or 'none'} (declared {', '.join(sorted(want)) or 'none'})")
    checks = (
        ("memory limit", int(declared.get("mem_limit") or 0), int(host.get("Memory") or 0)),
        ("pids limit", int(declared.get("pids_limit") or 0), max(0, int(host.get("PidsLimit") or 0))),
        ("CPU limit", int(float(declared.get("cpus") or 0) * 1e9), int(host.get("NanoCpus") or 0)),
        ("read-only root", bool(declared.get("read_only")), bool(host.get("ReadonlyRootfs"))),
        ("privileged", bool(declared.get("privileged")), bool(host.get("Privileged"))),
    )
    for what, want, live in checks:
        if want != live:
            found.append(f"{what} {live} (declared {want})")
    return found


def drifted(config: dict[str, Any], project: str, listed: list | None = None) -> dict[str, list[str]]:
    """service -> what differs, for the project's running containers (`listed`: inventory.read's, when
    the caller has them)."""
    services = config.get("services") or {}
    out: dict[str, list[str]] = {}
    running = [c for c in (inventory.read(project) if listed is None else listed) if c.status == "running"]
    for c in inventory.services(running):
        service = c.labels.get(SERVICE_LABEL, "")
        if service in services:
            pid = int((c.attrs.get("State") or {}).get("Pid") or 0)
            diff = differences(services[service], c.attrs.get("HostConfig") or {}, caps.of_process(pid))
            if diff:
                out[service] = diff
    return out
