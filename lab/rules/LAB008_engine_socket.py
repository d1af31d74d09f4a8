"""The engine's control socket mounted into a container (Docker, Podman, containerd, CRI-O), or the run
directory that holds it: whoever talks to it starts a privileged container — root on the host.

A mount of `/` or `/var` holds the socket too (binds are recursive, and connecting to a socket needs no
write access, so `:ro` does not help): flagged here as well as by LAB009, as compose-lint's CL-0001 does
(node-exporter's `/:/rootfs:ro`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB008",
    "engine-socket-mounted",
    HIGH,
    "the Docker/Podman/containerd socket (or the directory holding it) mounted",
    "remove the mount; if a tool needs the engine, give it a socket proxy that allows only what it uses",
    ("compose-lint CL-0001", "CIS Docker Benchmark 5.31"),
)

SOCKETS = ("docker.sock", "podman.sock", "containerd.sock", "crio.sock", "dockershim.sock")
ABOVE = ("/", "/var")  # hold /var/run (and /run, when it is a directory of /)
RUN_DIRS = ("/run", "/var/run", "/run/docker", "/var/run/docker", "/run/podman", "/run/containerd", "/run/crio")


def is_engine_socket(source: str) -> bool:
    path = PurePosixPath(source)
    return path.name in SOCKETS or str(path) in RUN_DIRS


def holds_engine_socket(source: str) -> bool:
    """The socket itself, its run directory, or a directory above that (`/`, `/var`)."""
    path = str(PurePosixPath(source)) if source else ""
    return is_engine_socket(source) or path in ABOVE


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        for mount in svc.get("volumes") or []:
            if (
                isinstance(mount, dict)
                and mount.get("type") == "bind"
                and holds_engine_socket(mount.get("source") or "")
            ):
                source = mount["source"]
                yield Finding(
                    RULE.id,
                    HIGH,
                    name,
                    f"volumes {source}",
                    f"mounted at {mount.get('target')}" + (" (read-only)" if mount.get("read_only") else ""),
                    "the engine's API: anyone in the container is root on the host (read-only does not help)",
                    RULE.fix,
                    anchor=("services", name, "volumes"),
                    item=source,
                )
