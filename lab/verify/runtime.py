"""Runtime bindings: what the engine really published for every container of the project."""
from __future__ import annotations

from dataclasses import dataclass

from lab import engine
from lab.verify.checks import FAIL, PASS, Check, describe_host, loopback_host


@dataclass(frozen=True)
class Binding:
    container: str
    host_ip: str
    host_port: int
    container_port: int
    protocol: str


def bindings(project: str) -> list[Binding]:
    """Published ports of the project's running containers, from `docker inspect`."""
    out = []
    for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={project}"}):
        for key, entries in (c.attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
            port, _, proto = key.partition("/")
            for entry in entries or []:
                out.append(Binding(c.name, entry.get("HostIp", ""), int(entry.get("HostPort") or 0), int(port),
                                   proto or "tcp"))
    return sorted(out, key=lambda b: (b.container, b.host_port, b.protocol, b.host_ip))


def check(found: list[Binding]) -> list[Check]:
    return [Check("runtime", f"{b.container} {b.protocol}/{b.container_port}",
                  PASS if loopback_host(b.host_ip) else FAIL,
                  f"HostIp {b.host_ip}:{b.host_port}" if loopback_host(b.host_ip)
                  else f"HostIp {describe_host(b.host_ip)} port {b.host_port}")
            for b in found]
