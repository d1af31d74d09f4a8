"""Choosing host ports: validate --port values, pick --dynamic-ports, refuse held ports."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lab import ports
from lab.catalogue import BY_NAME, SERVICES, Endpoint
from lab.errors import PortInUse, UsageError
from lab.project import Project, default_ports

IANA_DYNAMIC = (49152, 65535)


def _dynamic_range(ephemeral: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    """The IANA dynamic range above the kernel's ephemeral one (61000-65535 with Linux's default): a port
    picked there cannot be taken by an outgoing connection's local port in the minutes of builds between the
    pick and the engine's bind (a CI run lost postgres's port that way). The whole IANA range where the
    kernel's leaves fewer than 1000 above it, or cannot be read."""
    try:
        high = int(Path(ephemeral).read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return IANA_DYNAMIC
    low = max(IANA_DYNAMIC[0], high + 1)
    return (low, IANA_DYNAMIC[1]) if IANA_DYNAMIC[1] - low >= 999 else IANA_DYNAMIC


DYNAMIC = _dynamic_range()


def _unprivileged_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


def parse(text: str) -> tuple[str, int]:
    """`SERVICE=PORT` -> (service, port), refusing anything malformed with one line."""
    service, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--port {text!r}: expected SERVICE=PORT", "e.g. --port redis=16379")
    if service not in BY_NAME:
        raise UsageError(f"--port {text!r}: unknown service {service!r}", f"choose one of: {', '.join(BY_NAME)}")
    if not value.isdigit():
        raise UsageError(f"--port {text!r}: {value!r} is not a number", "use a port from 1024 to 65535")
    return service, int(value)


def validate(chosen: dict[str, int]) -> None:
    privileged_ok = os.geteuid() == 0
    start = _unprivileged_start()
    seen: dict[int, str] = {}
    for service, port in chosen.items():
        if not 1 <= port <= 65535:
            raise UsageError(f"{service}: port {port} is out of range", "use a port from 1024 to 65535")
        if port < start and not privileged_ok:
            raise UsageError(
                f"{service}: port {port} is privileged (< {start}) and lab is not root",
                "use a port from 1024 up, or run as root",
            )
        if port in seen:
            raise UsageError(
                f"{seen[port]} and {service} both want host port {port}",
                f"give one of them another port: --port {service}=PORT",
            )
        seen[port] = service


def apply(project: Project, overrides: list[str], dynamic: bool, ours: set[int] | None = None) -> None:
    """Fill project.ports from --dynamic-ports and --port values (these win), then validate.

    --dynamic-ports keeps the free ports it picked before (recorded, not a default) when they are still
    free or published by this very project: `lab up --dynamic-ports` again on a running stack changes
    nothing, rather than moving every service and restarting it. `ours`: the host ports the project's
    containers publish (read from the engine when not given)."""
    fixed = dict(parse(text) for text in overrides)
    if dynamic:
        defaults = default_ports()
        earlier = {
            name: port
            for name, port in project.ports.items()
            if name not in fixed and port != defaults.get(name) and DYNAMIC[0] <= port <= DYNAMIC[1]
        }
        if earlier and ours is None:
            from lab import inventory

            ours = {b.host_port for b in inventory.bindings(project.name)}
        kept = {
            name: port
            for name, port in earlier.items()
            if port in (ours or set()) or ports.is_free(port, BY_NAME[name].protocols, project.hosts)
        }
        fixed = {**kept, **fixed}
        wanted = [s for s in SERVICES if s.name not in fixed]
        try:
            picked = (
                ports.pick_free(len(wanted), ("tcp", "udp"), project.hosts, *DYNAMIC, avoid=set(fixed.values()))
                if wanted
                else []
            )
        except OSError as exc:
            raise UsageError(f"--dynamic-ports: {exc}", "free some ports, or choose them with --port") from exc
        project.ports.update({s.name: p for s, p in zip(wanted, picked, strict=True)})
    project.ports.update(fixed)
    validate(project.ports)


def suggest(project: Project, service: str) -> int:
    spec = BY_NAME[service]
    return ports.pick_free(1, spec.protocols, project.hosts, *DYNAMIC, avoid=set(project.ports.values()))[0]


def conflicts(project: Project, mine: set[tuple[int, str]]) -> list[tuple[Endpoint, ports.Holder]]:
    """Sockets of others that would collide with a port the stack publishes (ours excepted):
    the same loopback address, or a wildcard of either family."""
    # Ours are left out before the holders are looked up: naming a holder scans every process's sockets
    # (~0.1 s), and on a running stack every port is ours.
    wanted = {(e.port, e.protocol): e for e in project.endpoints() if (e.port, e.protocol) not in mine}
    return [
        (wanted[(h.port, h.protocol)], h)
        for h in ports.holders({port for port, _ in wanted})
        if (h.port, h.protocol) in wanted and (h.is_wildcard or h.address in project.hosts)
    ]


def refuse_held(project: Project, mine: set[tuple[int, str]]) -> None:
    """Raise PortInUse for the first port someone else holds (our own running stack excepted)."""
    for endpoint, h in conflicts(project, mine)[:1]:
        _raise(project, endpoint.service, f"{h.protocol}/{h.address or '*'}:{h.port}", ports.who(h))


# "Bind for 127.0.0.1:6379 failed: port is already allocated" (engine), "listen tcp4 127.0.0.1:6379: bind:
# address already in use" (docker-proxy) or, Docker 28, "failed to bind host port for
# 127.0.0.1:6379:172.20.0.5:6379/tcp: address already in use" (the engine binds the port itself)
_ALLOCATED = re.compile(
    r"(?:Bind for |listen (?:tcp|udp)[46]? |failed to bind host port for )(?:\[([0-9a-f:]+)\]|([0-9.]+|::)):(\d+)\b",
    re.I,
)


def explain_race(project: Project, stderr: str) -> None:
    """compose lost the race to someone binding after our check: name the holder the same way."""
    match = _ALLOCATED.search(stderr)
    if not match or not ("already allocated" in stderr or "address already in use" in stderr):
        return
    host, port = match.group(1) or match.group(2), int(match.group(3))
    service = next((s for s, p in project.ports.items() if p == port), "?")
    held = [h for h in ports.holders({port})]
    holder = ports.who(held[0]) if held else "another process (gone by now)"
    _raise(project, service, f"{host}:{port}", holder)


def _raise(project: Project, service: str, address: str, holder: str) -> None:
    try:
        hint = f"stop it, or use a free port: lab up --port {service}={suggest(project, service)}"
    except OSError:
        hint = f"stop it, or choose another: lab up --port {service}=PORT"
    if not project.is_default:
        hint += f" --project {project.name}"
    raise PortInUse(service, address, holder, hint)
