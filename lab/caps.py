"""Capabilities as a set a container keeps, whatever way the engine writes them down.

Docker reports what the compose file said (`CapDrop: [ALL]`, `CapAdd: [CHOWN]`); Podman reports the same
container as the default capabilities it dropped one by one and nothing added. Both mean one bounding set:
compare that, never the lists (a Podman container would look drifted and unhardened otherwise).
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
