"""The engine's own raw-table rules, taken away for a positive control and put back after.

Docker 28 drops, in the raw table, a neighbour's packets to loopback-published ports (moby#49325) and to
each container's own address (moby#49829). An engine started with `DOCKER_INSECURE_NO_IPTABLES_RAW=1`, or a
firewall reload that flushes the table (CVE-2025-54388), leaves a host without them: removing them here
is that host, so a positive control can show the hole open without lab's rules on every engine. On an
engine without such rules (20.10, Podman) there is nothing to take away. Read from the table, never
decided by the engine's version.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lab import addr, enginefacts, harden, inventory


@contextmanager
def without_engine_rules(match: Callable[[enginefacts.RawDrop], bool]) -> Iterator[list[enginefacts.RawDrop]]:
    """Delete the engine's own raw DROPs that `match`; append them back after (behind lab's, where they were)."""
    taken = [d for d in enginefacts.raw_drops() if d.owner == "engine" and match(d)]
    for d in taken:
        proc = harden.xtables(d.tool, "-D", *shlex.split(d.text))
        assert proc.returncode == 0, proc.stderr
    try:
        yield taken
    finally:
        for d in taken:
            harden.xtables(d.tool, "-A", *shlex.split(d.text))


def for_project(project: str) -> Callable[[enginefacts.RawDrop], bool]:
    """The engine's rules for a project's container addresses and for loopback."""
    subnets = [s for net in inventory.networks(project) for s in net.subnets]
    published = {b.host_port for b in inventory.bindings(project)}

    def match(d: enginefacts.RawDrop) -> bool:
        host = d.destination.split("/")[0]
        if addr.is_loopback(host):
            return d.port is None or d.port in published
        return any(addr.within(host, s) for s in subnets)

    return match


def drops_unpublished(project: str) -> bool:
    """Does the engine's filter table drop what reaches a project bridge from elsewhere and no published-port
    ACCEPT let through (`-A DOCKER ! -i br-X -o br-X -j DROP`, Docker 28's moby#48724)? Read from the table."""
    listed = harden.xtables("iptables", "-S", "DOCKER", table="filter").stdout.splitlines()
    return any(f"-A DOCKER ! -i {net.bridge} -o {net.bridge} -j DROP" in listed for net in inventory.networks(project))
