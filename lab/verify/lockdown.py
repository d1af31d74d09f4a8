"""Lockdown: every container of the project as locked down as the catalogue says (container hardening,
CIS Docker Benchmark section 5, v1.6 numbering): 5.4 capabilities, 5.11 memory, 5.12 CPU, 5.13 read-only
root, 5.26 no new privileges, 5.27 health, 5.29 pids; plus not privileged, a restart policy, and PID 1 not root with no
effective capability, and what PID 1 can write beside a read-only root (read from /proc, so a privilege drop
that did not happen, or a mount the engine added, is seen). Named apart from `lab harden`, which is the
host's firewall rules."""

from __future__ import annotations

from lab import caps
from lab.inventory import Lockdown, under
from lab.verify.checks import FAIL, PASS, SKIP, WARN, Check

LIMITS = ("[5.11]", "[5.12]", "[5.29]")  # what an engine without cgroups cannot enforce


def problems(c: Lockdown, allowed: set[str]) -> list[str]:
    found = []
    # the set kept: the kernel's word where PID 1 can be read, else however the engine lists it
    known = c.bounding is not None and not c.privileged
    extra = (c.bounding if known else caps.kept(c.cap_add, c.cap_drop)) - allowed
    if extra >= caps.DEFAULT - allowed:
        found.append("capabilities not dropped (cap_drop: ALL) [5.4]")
        extra -= caps.DEFAULT
    if extra:
        beyond = " beyond the catalogue's" if allowed else ""
        found.append(f"capabilities kept{beyond}: {', '.join(sorted(extra))} [5.4]")
    if c.uid is None or c.uid == 0:
        found.append("PID 1 runs as root" if c.uid == 0 else "PID 1 unreadable")
    if c.cap_eff:
        found.append(f"PID 1 holds capabilities (CapEff {c.cap_eff:#x})")
    if not c.memory:
        found.append("no memory limit [5.11]")
    if not c.nano_cpus:
        found.append("no CPU limit [5.12]")
    if not c.read_only:
        found.append("root filesystem writable [5.13]")
    elif c.writable and "/" in c.writable:  # configured read-only, yet the kernel says otherwise
        found.append("root filesystem writable although configured read-only [5.13]")
    if not c.no_new_privileges:
        found.append("no-new-privileges not set [5.26]")
    if not c.healthcheck:
        found.append("no healthcheck [5.27]")
    if c.pids_limit <= 0:
        found.append("no pids limit [5.29]")
    if c.privileged:
        found.append("privileged")
    if c.restart in ("", "no"):
        found.append("no restart policy")
    return found


def declared(config: dict) -> dict[str, set[str]]:
    """Each service's tmpfs and volume targets, as its effective compose config declares them."""
    out = {}
    for name, service in (config.get("services") or {}).items():
        tmpfs = service.get("tmpfs") or []
        points = {t.split(":", 1)[0] for t in ([tmpfs] if isinstance(tmpfs, str) else tmpfs)}
        points |= {v.get("target", "") for v in service.get("volumes") or () if isinstance(v, dict)}
        out[name] = points - {""}
    return out


def engine_added(c: Lockdown, declared: dict[str, set[str]] | None) -> list[str]:
    """What PID 1 can write beside a read-only root that the project did not declare. Without its compose
    config, the engine's own list of the container's mounts stands in for it."""
    if not c.read_only:
        return []
    mine = declared[c.service] if declared is not None and c.service in declared else set(c.mounts)
    return [m for m in c.writable or () if m != "/" and not under(m, mine)]


def check(
    containers: list[Lockdown],
    known: bool = True,
    cgroups: bool = True,
    declared: dict[str, set[str]] | None = None,
) -> list[Check]:
    """`known`: lab's own project, held to the catalogue (a gap fails). Another project's containers are
    its owner's choices: the same gaps are warnings. `declared`: each service's mounts, from its config."""
    from lab.catalogue import BY_NAME

    checks = []
    for c in containers:
        spec = BY_NAME.get(c.service) if known else None
        allowed = set(spec.capabilities) if spec else set()
        bad = problems(c, allowed)
        limits = f"mem {c.memory // 2**20} MiB, cpus {c.nano_cpus / 1e9:g}, pids {c.pids_limit}"
        if not cgroups:  # the engine cannot enforce limits: say so, never pass or fail them
            skipped = [b for b in bad if b.endswith(LIMITS)]
            bad = [b for b in bad if b not in skipped]
            # declared or not, nothing holds a container to them here (seen: 200 MiB used under 32 MB)
            said = "; ".join(skipped) if skipped else f"declared {limits}, not enforced"
            checks.append(Check("lockdown", f"{c.container} limits", SKIP, f"engine without cgroups: {said}"))
            limits = "limits: see skip"
        added = engine_added(c, declared)
        if added:  # not the project's doing: nothing in Compose turns Podman's off
            checks.append(
                Check(
                    "lockdown",
                    f"{c.container} read-only",
                    WARN,
                    "root read-only, but writable mounts its compose files do not declare: "
                    f"{', '.join(added)} (the engine's, or an image's VOLUME) [5.13]",
                )
            )
        if bad:
            checks.append(Check("lockdown", c.container, FAIL if known else WARN, "; ".join(bad)))
        else:
            checks.append(
                Check(
                    "lockdown",
                    c.container,
                    PASS,
                    f"uid {c.uid}, no capabilities, read-only, no-new-privileges, {limits}",
                )
            )
    return checks
