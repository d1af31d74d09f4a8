"""The project's networks, made by lab before compose runs, so that lab's rules for their subnets are in
place before any container exists.

Made exactly as compose makes them (name, driver, options, IPAM, internal, attachable, IPv6, labels, and
compose's own project/network/version labels): compose then finds each by name and labels and uses it as
it is (Compose 2.40's `resolveOrCreateNetwork` checks only those labels), and `compose down` removes it
like its own. This spares `lab up` a `compose up --no-start` pass (a compose process, ~0.3-0.5 s) that
was there only to learn the subnets. A network compose replaced anyway is caught after the start
(`replaced`), and its rules follow at once.
"""

from __future__ import annotations

import docker.types

from lab import engine, hostnet
from lab.compose_cli import PROJECT_LABEL

NETWORK_LABEL = "com.docker.compose.network"
VERSION_LABEL = "com.docker.compose.version"


def _ipam(spec: dict) -> docker.types.IPAMConfig | None:
    ipam = spec.get("ipam") or {}
    pools = [
        docker.types.IPAMPool(
            subnet=p.get("subnet"),
            iprange=p.get("ip_range"),
            gateway=p.get("gateway"),
            aux_addresses=p.get("aux_addresses"),
        )
        for p in ipam.get("config") or []
    ]
    if not pools and not ipam.get("driver"):
        return None
    return docker.types.IPAMConfig(driver=ipam.get("driver") or "default", pool_configs=pools)


def ensure(config: dict, project: str, compose_version: str) -> dict[str, str]:
    """Create every non-external network of `config` (`compose config` output) that does not exist yet.
    Returns name -> network id for all of them, found or made."""
    client = engine.client()
    ids = {}
    taken: list[str] = []  # a rootless engine's subnets, chosen here (see _own_subnet)
    for key, spec in (config.get("networks") or {}).items():
        if spec.get("external"):
            continue
        name = spec.get("name") or f"{project}_{key}"
        found = [n for n in client.networks.list(names=[name]) if n.name == name]
        if found:
            ids[name] = found[0].id
            continue
        labels = {
            **(spec.get("labels") or {}),
            PROJECT_LABEL: project,
            NETWORK_LABEL: key,
            VERSION_LABEL: compose_version,
        }
        made = client.networks.create(
            name,
            driver=spec.get("driver") or "bridge",
            options=spec.get("driver_opts") or None,
            ipam=_ipam(spec) or _own_subnet(client, taken),
            internal=bool(spec.get("internal")),
            attachable=bool(spec.get("attachable")),
            enable_ipv6=bool(spec.get("enable_ipv6")),
            labels=labels,
            check_duplicate=True,
        )
        ids[name] = made.id
    return ids


def _own_subnet(client, taken: list[str]) -> docker.types.IPAMConfig | None:
    """A rootless engine's bridge lives in its own namespace and picks 172.18.0.0/16 like the system
    engine does: the same addresses would mean two sets of containers on this host, and the neighbour
    probe would knock on the wrong ones. There lab picks a subnet no route here uses; elsewhere the
    engine's own choice stands (it avoids the host's routes itself)."""
    if not engine.kind().rootless:
        return None
    for net in client.networks.list():
        taken += [c["Subnet"] for c in (net.attrs.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
    subnet = str(hostnet.free_subnet(24, tuple(taken)))
    taken.append(subnet)
    return docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])


def replaced(made: dict[str, str]) -> list[str]:
    """Names of networks whose id is no longer the one `ensure` returned (compose made its own)."""
    client = engine.client()
    now = {n.name: n.id for n in client.networks.list(names=list(made))}
    return sorted(name for name, nid in made.items() if now.get(name) != nid)
