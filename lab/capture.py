"""`lab capture`: who talks to whom in the stack, named by service.

Two tcpdumps run side by side for the time asked: one on the host's loopback (clients on the host
to the published ports), one on the project's bridge (service to service, and docker-proxy to the
containers). Their packets are read back with `tcpdump -r` and summed per flow — from, to,
protocol — with addresses replaced by names: a container's address is its service, a published
port on 127.0.0.1/::1 is that service, anything else on loopback is "host".
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import struct
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab import addr, inventory, tools
from lab.errors import CaptureError
from lab.project import Project

PROXY = "docker-proxy"  # host -> published port -> docker-proxy -> container: the second leg, on the bridge

# `tcpdump -nn -q -r`: "IP 172.18.0.5.43210 > 172.18.0.3.6379: tcp 26" (IPv6: "IP6 ::1.5000 > ::1.40000: tcp 0")
_LINE = re.compile(
    r"\bIP6? (?P<src>[0-9a-fA-F:.]+)\.(?P<sport>\d+) > (?P<dst>[0-9a-fA-F:.]+)\.(?P<dport>\d+): "
    r"(?P<proto>tcp|UDP)[^0-9]*(?P<size>\d+)?"
)


@dataclass(frozen=True)
class Packet:
    src: str
    sport: int
    dst: str
    dport: int
    protocol: str
    size: int  # payload bytes


@dataclass
class Flow:
    source: str
    target: str
    protocol: str
    packets: int = 0
    bytes: int = 0


def parse(text: str) -> list[Packet]:
    out = []
    for line in text.splitlines():
        m = _LINE.search(line)
        if m:
            out.append(
                Packet(m["src"], int(m["sport"]), m["dst"], int(m["dport"]), m["proto"].lower(), int(m["size"] or 0))
            )
    return out


@dataclass(frozen=True)
class Names:
    """Who an address is: containers by IP, services by the host ports they publish."""

    by_ip: dict[str, str]  # container addresses, and the bridge gateways ("docker-proxy")
    by_port: dict[tuple[int, str], str]  # (published port, protocol) -> service
    service_ports: dict[str, set[tuple[int, str]]]  # service -> its container ports

    def endpoint(self, ip: str, port: int, proto: str) -> tuple[str, bool]:
        """(name, is a server side) of one end of a packet."""
        if ip in self.by_ip:
            service = self.by_ip[ip]
            if service == PROXY:
                return PROXY, False
            return service, (port, proto) in self.service_ports.get(service, set())
        if addr.is_loopback(ip) and (port, proto) in self.by_port:
            return self.by_port[(port, proto)], True
        return "host", False


def flows(packets: list[Packet], names: Names) -> list[Flow]:
    """Sum both directions of each conversation into one client -> server flow."""
    table: dict[tuple[str, str, str], Flow] = {}
    for p in packets:
        a, a_server = names.endpoint(p.src, p.sport, p.protocol)
        b, b_server = names.endpoint(p.dst, p.dport, p.protocol)
        client, server = (b, a) if a_server and not b_server else (a, b)
        if client == server == "host":
            continue
        key = (client, server, p.protocol)
        flow = table.setdefault(key, Flow(*key))
        flow.packets += 1
        flow.bytes += p.size
    return sorted(table.values(), key=lambda f: (f.source, f.target, f.protocol))


def names_for(project: Project) -> Names:
    by_ip, service_ports, service_of = {}, defaultdict(set), {}
    for c in inventory.containers(project.name):
        service_of[c.name] = c.service
        for ip in c.addresses:
            by_ip[ip] = c.service
        service_ports[c.service] |= set(c.ports)
    for net in inventory.networks(project.name):
        by_ip.update(dict.fromkeys(net.gateways, PROXY))
    by_port = {
        (b.host_port, b.protocol): service_of.get(b.container, b.container) for b in inventory.bindings(project.name)
    }
    return Names(by_ip, by_port, dict(service_ports))


def _tcpdump() -> str:
    if os.geteuid() != 0:
        raise CaptureError("capturing packets needs root (CAP_NET_RAW)")
    found = tools.ensure("tcpdump", "tcpdump")
    if not found:
        raise CaptureError("tcpdump is missing and lab cannot install it")
    return found


def merge_pcaps(parts: list[Path], out: Path) -> None:
    """One pcap of both interfaces, records in time order (both are Ethernet captures on Linux)."""
    records = []
    header = b""
    for part in parts:
        data = part.read_bytes()
        if len(data) < 24:
            continue
        header = header or data[:24]
        endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        pos = 24
        while pos + 16 <= len(data):
            sec, usec, incl, _orig = struct.unpack(endian + "IIII", data[pos : pos + 16])
            records.append(((sec, usec), data[pos : pos + 16 + incl]))
            pos += 16 + incl
    out.write_bytes(header + b"".join(r for _, r in sorted(records, key=lambda r: r[0])))


def _listening(procs: list[subprocess.Popen], bound: float = 30.0) -> None:
    """Return once every tcpdump has said "listening on …" (its capture has begun): the window the user
    asked for starts then, not while tcpdump is still opening its interface. A tcpdump that fails says
    so instead; `bound` only catches a hang."""
    deadline = time.monotonic() + bound
    for proc in procs:
        assert proc.stderr is not None
        said = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stderr, selectors.EVENT_READ)
            while b"listening on" not in said:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise CaptureError(f"tcpdump did not start listening within {bound:.0f} s")
                chunk = os.read(proc.stderr.fileno(), 4096)  # unbuffered: select sees all that is left
                if not chunk:
                    raise CaptureError(f"tcpdump failed: {said.decode(errors='replace').strip()[-200:]}")
                said += chunk


def run(
    project: Project,
    services: list[str],
    seconds: float,
    write: Path | None,
    workdir: Path,
    ready: Callable[[], None] | None = None,
) -> list[Flow]:
    """Capture for `seconds` on loopback and the project's bridges; return the flows (of `services` if given).

    `ready` is called once every tcpdump is listening, when traffic starts to count."""
    tcpdump = _tcpdump()
    names = names_for(project)
    if not set(names.by_ip.values()) - {PROXY}:
        raise CaptureError(f"project {project.name} has no running containers")
    published = sorted({port for port, _ in names.by_port})
    interfaces = {"lo": " or ".join(f"port {p}" for p in published) or "none"}
    for net in inventory.networks(project.name):
        interfaces[net.bridge] = " or ".join(f"net {s}" for s in net.subnets)
    procs, files = [], []
    try:
        for iface, bpf in interfaces.items():
            path = workdir / f"{iface}.pcap"
            files.append(path)
            procs.append(
                subprocess.Popen(
                    [tcpdump, "-i", iface, "-nn", "-U", "-s", "256", "-w", str(path), bpf],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
        _listening(procs)
        if ready:
            ready()
        time.sleep(seconds)  # the capture window the user asked for, not a wait for an event
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = [p for p in procs if p.returncode not in (0, -signal.SIGINT)]
    if failed:
        raise CaptureError(f"tcpdump failed: {failed[0].stderr.read().decode(errors='replace').strip()[-200:]}")
    packets = []
    for path in files:
        out = subprocess.run([tcpdump, "-nn", "-q", "-r", str(path)], capture_output=True, text=True, check=False)
        packets += parse(out.stdout)
    if write:
        merge_pcaps(files, write)
    found = flows(packets, names)
    if services:
        found = [f for f in found if f.source in services or f.target in services]
    return found
