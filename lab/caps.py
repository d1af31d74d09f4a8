"""Capabilities as a set a container keeps, whatever way the engine writes them down.

Docker reports what the compose file said (`CapDrop: [ALL]`, `CapAdd: [CHOWN]`); Podman reports the same
container as the default capabilities it dropped one by one and nothing added. Both mean one bounding set:
compare that, never the lists (a Podman container would look drifted and unhardened otherwise).
Podman 5 lists its drops against its own, smaller default set (containers.conf: no AUDIT_WRITE, MKNOD,
NET_RAW), so where the container's PID 1 can be read its bounding set is read from the kernel instead
(`of_process`); the lists are the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable

# Docker's default set (moby's oci/caps/defaults.go); Podman's compatible API reports drops against it too.
DEFAULT = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip


def names(values: Iterable[str] | None) -> set[str]:
    return {str(v).upper().removeprefix("CAP_") for v in values or ()}


def kept(add: Iterable[str] | None, drop: Iterable[str] | None) -> frozenset[str]:
    """The capabilities a container keeps: the defaults minus those dropped, plus those added ("ALL": all)."""
    dropped, added = names(drop), names(add)
    base = frozenset() if "ALL" in dropped else DEFAULT - dropped
    return frozenset(base | added)


# Linux capability numbers (linux/capability.h), for a /proc bitmask
_BY_NUMBER = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
)  # fmt: skip


def from_mask(mask: int) -> frozenset[str]:
    """The capability names in a /proc/PID/status bitmask (CapBnd, CapEff)."""
    return frozenset(name for bit, name in enumerate(_BY_NUMBER) if mask >> bit & 1)


def of_process(pid: int) -> frozenset[str] | None:
    """A process's bounding set, as the kernel holds it (None: no such process, or not readable here)."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return from_mask(int(line.split(":", 1)[1].strip(), 16))
    except (OSError, ValueError):
        return None
    return None
