"""Who holds a host port: any process on the machine, and the container behind a docker-proxy."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import psutil

from lab import addr


@dataclass(frozen=True)
class Holder:
    address: str  # host as the kernel reports it ("127.0.0.1", "::", ...)
    port: int
    protocol: str
    pid: int | None
    command: str
    user: str

    @property
    def is_loopback(self) -> bool:
        return addr.is_loopback(self.address)

    @property
    def is_wildcard(self) -> bool:
        return addr.is_wildcard(self.address)

    def describe(self) -> str:
        who = f"pid {self.pid} ({self.command}, user {self.user})" if self.pid else "an unknown process"
        return who


def _proc_info(pid: int | None) -> tuple[str, str]:
    if not pid:
        return "?", "?"
    try:
        proc = psutil.Process(pid)
        return " ".join(proc.cmdline())[:160] or proc.name(), proc.username()
    except (psutil.Error, OSError):
        return "?", "?"


def holders(ports: set[int] | None = None) -> list[Holder]:
    """Listening TCP and bound UDP sockets (optionally only on `ports`), both families."""
    out = []
    for conn in psutil.net_connections(kind="inet"):
        if not conn.laddr:
            continue
        proto = "tcp" if conn.type == socket.SOCK_STREAM else "udp"
        if proto == "tcp" and conn.status != psutil.CONN_LISTEN:
            continue
        if proto == "udp" and conn.raddr:
            continue  # a connected client socket, not a server's binding
        if ports is not None and conn.laddr.port not in ports:
            continue
        command, user = _proc_info(conn.pid)
        out.append(Holder(conn.laddr.ip, conn.laddr.port, proto, conn.pid, command, user))
    return sorted(out, key=lambda h: (h.port, h.protocol, h.address))


def is_free(port: int, protocols: tuple[str, ...], hosts: tuple[str, ...]) -> bool:
    """Can we bind `port` for every protocol on every host (and on the wildcard of each family)?"""
    from lab.hostnet import port_is_free

    return all(
        port_is_free(h, port, proto) and port_is_free(addr.wildcard_of(h), port, proto)
        for h in hosts
        for proto in protocols
    )


def pick_free(
    count: int,
    protocols: tuple[str, ...],
    hosts: tuple[str, ...],
    low: int = 49152,
    high: int = 65535,
    avoid: set[int] | None = None,
) -> list[int]:
    """`count` distinct ports from [low, high] free in every family and protocol given."""
    import random

    avoid = set(avoid or ())
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    chosen: list[int] = []
    for port in candidates:
        if port not in avoid and is_free(port, protocols, hosts):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise OSError(f"fewer than {count} free ports in {low}-{high}")


def container_publishing(port: int, protocol: str) -> tuple[str, str] | None:
    """(container name, compose project) of a container publishing host `port`, if any."""
    from lab import engine

    for c in engine.client().containers.list():
        for key, entries in (c.attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
            if not key.endswith("/" + protocol):
                continue
            if any(int(e.get("HostPort") or 0) == port for e in entries or []):
                return c.name, c.labels.get("com.docker.compose.project", "-")
    return None


def who(h: Holder) -> str:
    """The holder in words: the process, and the container behind a docker-proxy."""
    text = h.describe()
    if "docker-proxy" in h.command:
        try:
            found = container_publishing(h.port, h.protocol)
        except Exception:  # the engine may be down; the pid is still worth showing
            found = None
        if found:
            text = f"container {found[0]} (compose project {found[1]}) via docker-proxy pid {h.pid}"
    return text
