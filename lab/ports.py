"""Who holds a host port: any process on the machine, and the container behind an engine's port holder."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from lab import addr
from lab.compose_cli import PROJECT_LABEL

# The process each engine holds a published port with: Docker's userland proxy, rootless Docker's
# rootlesskit (its builtin port driver), Podman's conmon (it binds each port to reserve it). Behind each
# is a container the engine can name.
ENGINE_HOLDERS = ("docker-proxy", "rootlesskit", "conmon")


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

    @property
    def engine_holder(self) -> str | None:
        """The engine's port holder this is ("conmon", …), else None."""
        name = Path(self.command.split(" ", 1)[0]).name
        return name if name in ENGINE_HOLDERS else None


def _proc_info(pid: int | None) -> tuple[str, str]:
    if not pid:
        return "?", "?"
    try:
        proc = psutil.Process(pid)
        return " ".join(proc.cmdline())[:160] or proc.name(), proc.username()
    except (psutil.Error, OSError):
        return "?", "?"


# The kernel's own socket tables: /proc/net/{tcp,tcp6,udp,udp6} list every socket of this network
# namespace with its inode. Reading them costs ~1 ms; psutil.net_connections() maps every socket of
# every process to its pid by reading every fd of every process (0.15-0.5 s here, in Python under
# the GIL), and lab only needs the pids of the few sockets on its own ports.
_TABLES = (("tcp", "tcp", 4), ("tcp6", "tcp", 6), ("udp", "udp", 4), ("udp6", "udp", 6))
_LISTEN, _UDP_UNCONNECTED = "0A", "07"


def _address(hexaddr: str, family: int) -> str:
    raw = bytes.fromhex(hexaddr)
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # IPv6: four 32-bit words, each in host (little-endian) order
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def _sockets(ports: set[int] | None) -> list[tuple[str, int, str, int]]:
    """(address, port, protocol, inode) of listening TCP and bound, unconnected UDP sockets."""
    found = []
    for table, proto, family in _TABLES:
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if state != (_LISTEN if proto == "tcp" else _UDP_UNCONNECTED):
                continue
            if proto == "udp" and not remote.endswith(":0000"):
                continue  # a connected client socket, not a server's binding
            host, port = local.rsplit(":", 1)
            if ports is None or int(port, 16) in ports:
                found.append((_address(host, family), int(port, 16), proto, inode))
    return found


def _owners(inodes: set[int]) -> dict[int, int]:
    """inode -> pid for these sockets: the engines' port holders first (they hold lab's ports), the rest
    only until every inode is found."""
    owners: dict[int, int] = {}
    if not inodes:
        return owners
    pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]

    def comm(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    for pid in sorted(pids, key=lambda p: comm(p) not in ENGINE_HOLDERS):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                owners[int(link[8:-1])] = pid
        if len(owners) == len(inodes):
            break
    return owners


def holders(ports: set[int] | None = None) -> list[Holder]:
    """Listening TCP and bound UDP sockets (optionally only on `ports`), both families."""
    found = _sockets(ports)
    owners = _owners({inode for *_, inode in found})
    out = []
    for address, port, proto, inode in found:
        pid = owners.get(inode)
        command, user = _proc_info(pid)
        out.append(Holder(address, port, proto, pid, command, user))
    return sorted(set(out), key=lambda h: (h.port, h.protocol, h.address))


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


def publishers() -> dict[tuple[int, str], tuple[str, str]]:
    """(host port, protocol) -> (container name, compose project) for every running container that
    publishes it: one read of the engine, for a caller with many holders to name."""
    from lab import engine

    found: dict[tuple[int, str], tuple[str, str]] = {}
    # ignore_removed: a container of another project removed between the list and its inspect is not ours
    # to name, and must not fail the whole read (seen with stacks going down beside a `lab ports`)
    for c in engine.client().containers.list(ignore_removed=True):
        for key, entries in (c.attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
            protocol = key.partition("/")[2] or "tcp"
            for e in entries or []:
                if e.get("HostPort"):
                    found.setdefault((int(e["HostPort"]), protocol), (c.name, c.labels.get(PROJECT_LABEL, "-")))
    return found


def who(h: Holder, behind: dict[tuple[int, str], tuple[str, str]] | None = None) -> str:
    """The holder in words: the process, and the container behind an engine's port holder (looked up in
    `behind`, `publishers()` when the caller has read it already)."""
    text = h.describe()
    if h.engine_holder:
        try:
            found = (publishers() if behind is None else behind).get((h.port, h.protocol))
        except Exception:  # the engine may be down; the pid is still worth showing
            found = None
        if found:
            text = f"container {found[0]} (compose project {found[1]}) via {h.engine_holder} pid {h.pid}"
    return text
