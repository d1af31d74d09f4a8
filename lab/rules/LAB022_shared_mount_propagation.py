"""A bind mount with `shared` or `rshared` propagation: mounts made inside the container appear on
the host, and the host's appear inside. With a capability to mount (SYS_ADMIN, flagged by LAB010) it
is a way onto the host's file system; on its own, a hardening gap."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB022",
    "shared-mount-propagation",
    LOW,
    "a bind mount with `shared` or `rshared` propagation",
    "drop `:shared`/`:rshared` (or set `bind.propagation: rprivate`, the default)",
    ("compose-lint CL-0017", "CIS Docker Benchmark 5.19"),
)

SHARED = {"shared", "rshared"}


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for mount in svc.get("volumes") or []:
            if not isinstance(mount, dict):
                continue
            propagation = str((mount.get("bind") or {}).get("propagation") or "").strip().lower()
            if propagation in SHARED:
                source = str(mount.get("source") or "")
                yield Finding(
                    RULE.id,
                    LOW,
                    name,
                    f"volumes {source}",
                    f"propagation {propagation}",
                    "mounts cross between the container and the host",
                    RULE.fix,
                    anchor=("services", name, "volumes"),
                    item=source,
                )
