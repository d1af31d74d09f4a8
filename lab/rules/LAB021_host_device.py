"""A host disk or kernel device given to the container: `devices:` mapping a block device (sd*, nvme*,
vd*, xvd*, mmcblk*, md*, dm-*, loop*, nbd*, rbd*, zd*, and their /dev/disk, /dev/mapper, /dev/block
links), /dev itself, /dev/kmsg, /dev/zfs, /dev/loop-control; or a `device_cgroup_rules` entry that
lets it read or write such a device while it can make the node (the default MKNOD capability, or
a /dev bind mount).

Raw access to the host's disk is the host: its files, its passwords, lab's own state. A GPU, a
serial port, /dev/net/tun or /dev/fuse is not flagged: people pass those on purpose, and they do not
open the host's storage.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from lab.rules import HIGH, Context, Finding, Rule
from lab.rules.LAB010_dangerous_capability import normal

RULE = Rule(
    "LAB021",
    "host-device",
    HIGH,
    "a host disk, /dev, /dev/kmsg or a loop device given to the container (devices, device_cgroup_rules)",
    "remove it; if the service needs one device, give exactly that one (never a disk), read-only where it can be",
    ("compose-lint CL-0016", "CIS Docker Benchmark 5.17"),
)

_DISK = re.compile(
    r"^/dev/(?:sd[a-z]|hd[a-z]\d*$|nvme|vd[a-z]|xvd[a-z]|mmcblk|md\d|md/|dm-|mapper/|disk/|block/|loop|"
    r"nbd\d|rbd|zd\d|zvol/|mtdblock)"
)
_KERNEL = {
    "/dev": "every host device, every disk included",
    "/dev/kmsg": "the host's kernel log, read and written",
    "/dev/zfs": "the host's ZFS pools",
    "/dev/loop-control": "makes loop devices: mounts any disk image",
    "/dev/char/1:11": "/dev/kmsg by its number",
    "/dev/char/10:237": "/dev/loop-control by its number",
}
_CHAR = {("1", "11"): "/dev/kmsg", ("10", "237"): "/dev/loop-control"}
_CGROUP = re.compile(r"^([abc]) (\*|\d+):(\*|\d+) ([rwm]{1,3})$")


def judge_device(source: str) -> str | None:
    """Why a host device path is dangerous, or None."""
    path = os.path.normpath("/" + source.lstrip("/")) if source.startswith("/") else source
    if path in _KERNEL:
        return _KERNEL[path]
    if _DISK.match(path):
        return "a host block device: the host's disk, read and written raw"
    return None


def _device(entry: Any) -> tuple[str, str | None]:
    if isinstance(entry, dict):
        return str(entry.get("source") or ""), entry.get("permissions")
    parts = str(entry).split(":")
    return parts[0], parts[2] if len(parts) == 3 else None


def judge_cgroup_rule(entry: str) -> str | None:
    match = _CGROUP.match(" ".join(str(entry).split()))
    if not match:
        return None
    kind, major, minor, access = match.groups()
    if not set(access) & {"r", "w"}:
        return None  # `m` alone makes a node it cannot open
    if kind == "a":
        return "every host device, every disk included"
    if kind == "b":
        return "every host block device" + ("" if major == "*" else f" with major {major}")
    hits = [p for (ma, mi), p in _CHAR.items() if major in ("*", ma) and minor in ("*", mi)]
    return " and ".join(hits) if hits else None


def _can_make_node(svc: dict[str, Any]) -> bool:
    added = {normal(c) for c in svc.get("cap_add") or []}
    dropped = {normal(c) for c in svc.get("cap_drop") or []}
    if svc.get("privileged") or added & {"MKNOD", "ALL"} or not dropped & {"MKNOD", "ALL"}:
        return True
    return any(
        isinstance(m, dict) and m.get("type") == "bind" and str(m.get("source") or "").startswith("/dev")
        for m in svc.get("volumes") or []
    )


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for entry in svc.get("devices") or []:
            source, permissions = _device(entry)
            why = judge_device(source)
            if why and not (isinstance(permissions, str) and permissions.strip() and not set(permissions) & set("rwW")):
                yield Finding(
                    RULE.id,
                    HIGH,
                    name,
                    f"devices {source}",
                    f"permissions {permissions or 'rwm'}",
                    why,
                    RULE.fix,
                    anchor=("services", name, "devices"),
                    item=source,
                )
        rules = [(r, judge_cgroup_rule(r)) for r in svc.get("device_cgroup_rules") or []]
        if any(why for _r, why in rules) and _can_make_node(svc):
            for rule, why in rules:
                if why:
                    yield Finding(
                        RULE.id,
                        HIGH,
                        name,
                        "device_cgroup_rules",
                        str(rule),
                        f"opens {why}, and the container can make the node",
                        RULE.fix,
                        anchor=("services", name, "device_cgroup_rules"),
                        item=rule,
                    )
