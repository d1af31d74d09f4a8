"""What differs on Podman, for the tests: the host a positive control needs.

Docker adds an ACCEPT for each published container port to FORWARD, so on a host where Docker runs a
neighbour's packet is forwarded into a container unless lab's raw-table rule drops it first: the hole the
exposure tests must show open before `lab harden` and closed after. Podman's netavark forwards by NAT and
adds no ACCEPT for new connections: on a host running Podman alone (FORWARD policy ACCEPT, the kernel's
default) the same hole is open, but on this host the system Docker's FORWARD policy (DROP) closes it for
Podman's containers too. An ACCEPT for the project's own subnets stands in for the host Podman users
have; it is scoped to those subnets, so no other container on the machine is opened.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from lab import engine, inventory


@contextmanager
def as_a_podman_host(project: str | None) -> Iterator[None]:
    """On Podman: FORWARD accepts the project's subnets (a host without Docker); on Docker: as it is.
    `None`, for a test whose project has no network yet: every Podman bridge (`podman+`)."""
    rules: list[list[str]] = []
    if engine.kind().podman:
        tag = ["-m", "comment", "--comment", f"{project or 'labtest'} stand-in", "-j", "ACCEPT"]
        if project is None:
            scopes = [["-o", "podman+"]]
        else:
            scopes = [["-d", subnet] for net in inventory.networks(project) for subnet in net.subnets]
        for scope in scopes:
            rule = ["FORWARD", *scope, *tag]
            subprocess.run(["iptables", "-w", "5", "-I", *rule], check=True)
            rules.append(rule)
    try:
        yield
    finally:
        left = [r for r in rules if subprocess.run(["iptables", "-w", "5", "-D", *r]).returncode != 0]
        assert left == [], f"stand-in ACCEPT rules left behind: {left}"


def wildcard_dnat_matches_nothing(port: int) -> bool:
    """Does the engine's NAT for an explicit 0.0.0.0 on `port` match no packet? Podman 4.3's netavark writes it
    as `-d 0.0.0.0/32` (iptables); Podman 5's nftables rule has no address match, and Docker's none either.
    Read from the nat table, never decided by the engine's name or version."""
    listed = subprocess.run(["iptables", "-w", "5", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    return any("-d 0.0.0.0/32" in line and f"--dport {port} " in line for line in listed.splitlines())
