"""What the engine says a project is made of: its networks, its containers' addresses and ports,
and what it published. Read through the docker SDK's models; nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab import engine

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def _mine(project: str) -> dict[str, list[str]]:
    return {"label": [f"{PROJECT_LABEL}={project}"]}


@dataclass(frozen=True)
class Network:
    name: str
    bridge: str  # the host-side interface packets for this network leave by
    subnets: tuple[str, ...]
    gateways: tuple[str, ...] = ()  # the host's own address on the bridge (docker-proxy speaks from it)


@dataclass(frozen=True)
class Container:
    name: str
    service: str
    addresses: tuple[str, ...]  # on the project's own networks
    ports: tuple[tuple[int, str], ...]  # (container port, protocol), published or only exposed


@dataclass(frozen=True)
class Binding:
    container: str
    host_ip: str
    host_port: int
    container_port: int
    protocol: str


def networks(project: str) -> list[Network]:
    """The project's bridge networks, with the host interface each uses (`br-<id[:12]>` unless named)."""
    out = []
    for net in engine.client().networks.list(filters=_mine(project)):
        attrs = net.attrs
        if attrs.get("Driver") != "bridge":
            continue
        bridge = (attrs.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{net.id[:12]}"
        config = (attrs.get("IPAM") or {}).get("Config") or []
        subnets = tuple(c["Subnet"] for c in config if c.get("Subnet"))
        out.append(Network(net.name, bridge, subnets, tuple(c["Gateway"] for c in config if c.get("Gateway"))))
    return sorted(out, key=lambda n: n.name)


def _ports(attrs: dict) -> tuple[tuple[int, str], ...]:
    keys = set((attrs.get("NetworkSettings") or {}).get("Ports") or {})
    keys |= set((attrs.get("Config") or {}).get("ExposedPorts") or {})
    found = set()
    for key in keys:
        port, _, proto = key.partition("/")
        if port.isdigit():
            found.add((int(port), proto or "tcp"))
    return tuple(sorted(found))


def containers(project: str) -> list[Container]:
    """Running containers of the project with their addresses on its networks and their ports."""
    own = {n.name for n in networks(project)}
    out = []
    for c in engine.client().containers.list(filters=_mine(project)):
        nets = (c.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        addresses = tuple(
            a
            for name, n in sorted(nets.items())
            if name in own
            for a in (n.get("IPAddress"), n.get("GlobalIPv6Address"))
            if a
        )
        out.append(Container(c.name, c.labels.get(SERVICE_LABEL, c.name), addresses, _ports(c.attrs)))
    return sorted(out, key=lambda c: c.name)


def bindings(project: str) -> list[Binding]:
    """Published ports of the project's running containers (`NetworkSettings.Ports`)."""
    out = []
    for c in engine.client().containers.list(filters=_mine(project)):
        for key, entries in (c.ports or {}).items():
            port, _, proto = key.partition("/")
            for entry in entries or []:
                out.append(
                    Binding(c.name, entry.get("HostIp", ""), int(entry.get("HostPort") or 0), int(port), proto or "tcp")
                )
    return sorted(out, key=lambda b: (b.container, b.host_port, b.protocol, b.host_ip))
