"""What the engine says a project is made of: its networks, its containers' addresses and ports,
and what it published. Read through the docker SDK's models; nothing here decides anything.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import docker

from lab import caps, engine, hostnet, podman
from lab.compose_cli import (
    CONFIG_FILES_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    WORKING_DIR_LABEL,
    ContainerState,
    Publisher,
)


def _made_by_compose(project: str) -> dict[str, list[str]]:
    """The project's containers as compose made them (`up`, or `run`: the `oneoff` label says which).
    An image compose built carries the project and service labels too, and any container run from it
    inherits them: without `oneoff`, such a stray would count as one of the project's services."""
    return {"label": [f"{PROJECT_LABEL}={project}", "com.docker.compose.oneoff"]}


def read(project: str, stopped: bool = False) -> list:
    """The project's containers as compose made them (`docker.models.containers.Container`, each
    inspected once), running ones only unless `stopped`. Every view below takes such a list: a caller
    that needs several (verify: bindings, addresses, files, drift) asks the engine once, not per view
    (a list and an inspect per container, ~20 ms each time)."""
    tries = 3
    while True:
        tries -= 1
        try:  # a container removed between the list and its inspect is gone, not an error
            return engine.client().containers.list(all=stopped, filters=_made_by_compose(project), ignore_removed=True)
        except docker.errors.APIError as exc:
            # Podman answers an inspect that races a container's exit with 500 "read /proc/N/cgroup: no
            # such process" (Docker: 404, covered above): read again, the container has settled by then
            if not tries or "no such process" not in str(exc.explanation or ""):
                raise


def services(listed: list) -> list:
    """Those of `listed` that compose's `up` made (not `compose run`'s one-off containers)."""
    return [c for c in listed if c.labels.get("com.docker.compose.oneoff") == "False"]


def _mine(project: str) -> dict[str, list[str]]:
    return {"label": [f"{PROJECT_LABEL}={project}"]}


@dataclass(frozen=True)
class Network:
    name: str
    bridge: str  # the host-side interface packets for this network leave by
    subnets: tuple[str, ...]
    gateways: tuple[str, ...] = ()  # the host's own address on the bridge (docker-proxy speaks from it)
    on_host: bool = True  # False: the bridge lives in a rootless engine's own namespace, not on this host


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
    """The project's bridge networks, with the host interface each uses: the one holding its gateway
    (Docker's `br-<id[:12]>`, Podman's `podman<N>`), else Docker's name for it."""
    out = []
    for net in engine.client().networks.list(filters=_mine(project)):
        attrs = net.attrs
        if attrs.get("Driver") != "bridge":
            continue
        config = (attrs.get("IPAM") or {}).get("Config") or []
        gateways = [c["Gateway"] for c in config if c.get("Gateway")]
        named = (attrs.get("Options") or {}).get("com.docker.network.bridge.name")
        docker_name = f"br-{net.id[:12]}"
        bridge = (
            named
            or (podman.bridge(engine.client(), net.name) if engine.kind().podman else None)
            or (docker_name if os.path.exists(f"/sys/class/net/{docker_name}") else None)
            or next(filter(None, map(hostnet.interface_with, gateways)), None)
            or docker_name
        )
        subnets = tuple(c["Subnet"] for c in config if c.get("Subnet"))
        out.append(Network(net.name, bridge, subnets, tuple(gateways), on_host=not engine.kind().rootless))
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


def containers(project: str, nets: list[Network] | None = None, listed: list | None = None) -> list[Container]:
    """Running containers of the project with their addresses on its networks (`nets`, when the caller
    has listed them already) and their ports."""
    own = {n.name for n in (networks(project) if nets is None else nets)}
    out = []
    for c in read(project) if listed is None else listed:
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


def states(project: str, listed: list | None = None) -> list[ContainerState]:
    """What `compose ps --all` says of the project's service containers, from the engine directly: the
    same labels compose filters on, at ~20 ms instead of a compose process (~0.2 s), which the
    readiness loop pays on every round."""
    out = []
    podman_here = engine.kind().podman
    for c in services(read(project, stopped=True) if listed is None else listed):
        state = c.attrs.get("State") or {}
        health = (state.get("Health") or {}).get("Status", "")
        if podman_here and health == "starting" and state.get("Status") == "running":
            health = podman.run_healthcheck(engine.client(), c.id) or health  # nothing else runs it here
        pubs = tuple(
            Publisher(
                entry.get("HostIp", ""),
                int(key.partition("/")[0]),
                int(entry.get("HostPort") or 0),
                key.partition("/")[2] or "tcp",
            )
            for key, entries in (c.ports or {}).items()
            for entry in entries or []
        )
        out.append(
            ContainerState(
                c.labels.get(SERVICE_LABEL, ""),
                c.name,
                state.get("Status", ""),
                health,
                int(state.get("ExitCode") or 0),
                pubs,
                c.id,
                int(c.attrs.get("RestartCount") or 0),
            )
        )
    return sorted(out, key=lambda s: s.service)


def bindings(project: str, listed: list | None = None) -> list[Binding]:
    """Published ports of the project's running containers (`NetworkSettings.Ports`)."""
    out = []
    for c in read(project) if listed is None else listed:
        for key, entries in (c.ports or {}).items():
            port, _, proto = key.partition("/")
            for entry in entries or []:
                out.append(
                    Binding(c.name, entry.get("HostIp", ""), int(entry.get("HostPort") or 0), int(port), proto or "tcp")
                )
    return sorted(out, key=lambda b: (b.container, b.host_port, b.protocol, b.host_ip))


@dataclass(frozen=True)
class Lockdown:
    """How locked down one running container is: its configuration, and its PID 1 as the kernel sees it."""

    container: str
    service: str
    uid: int | None  # of PID 1, after any privilege drop (None: unreadable)
    cap_eff: int | None  # PID 1's effective capabilities (bitmask)
    cap_drop: tuple[str, ...]
    cap_add: tuple[str, ...]
    read_only: bool
    no_new_privileges: bool
    privileged: bool
    memory: int  # bytes, 0 = unlimited
    nano_cpus: int
    pids_limit: int  # 0 or negative = unlimited
    healthcheck: bool
    restart: str
    # mount points PID 1 can write, beyond those every engine gives (None: unreadable), and the tmpfs and
    # volume targets the engine lists: on Podman that list holds the /run, /tmp and /var/tmp its Docker API
    # adds to any read-only container, so what the project declared is for its compose file to say.
    writable: tuple[str, ...] | None = ()
    mounts: tuple[str, ...] = ()
    bounding: frozenset[str] | None = None  # PID 1's bounding set from the kernel (None: unreadable)


def _pid1(pid: int) -> tuple[int | None, int | None]:
    try:
        status = open(f"/proc/{pid}/status").read()  # noqa: SIM115 - one short read
    except OSError:
        return None, None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    uid = int(fields["Uid"].split()[1]) if "Uid" in fields else None  # effective uid
    cap = int(fields["CapEff"].strip(), 16) if "CapEff" in fields else None
    return uid, cap


# Writable in every container, read-only root or not: kernel filesystems, and the files an engine writes
# for the container's name and resolver (Docker mounts them read-only with read_only; Podman does not).
_KERNEL = ("/dev", "/proc", "/sys", "/run/secrets")
_ENGINE_FILES = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv"}


def under(point: str, roots) -> bool:
    return any(point == r or point.startswith(r.rstrip("/") + "/") for r in roots)


def _writable(pid: int) -> tuple[str, ...] | None:
    try:
        return writable(open(f"/proc/{pid}/mountinfo").read())
    except OSError:
        return None


def writable(mountinfo: str) -> tuple[str, ...]:
    """The writable mount points in a /proc/PID/mountinfo text, but for those every engine gives a container.
    A mount is writable when neither its own options nor its superblock's say `ro`."""
    found = set()
    for line in mountinfo.splitlines():
        mount, _, fs = line.partition(" - ")
        fields, fs_fields = mount.split(), fs.split()
        if len(fields) < 6 or len(fs_fields) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040 is a space
        if "ro" in fields[5].split(",") or "ro" in fs_fields[2].split(","):
            continue
        if point in _ENGINE_FILES or under(point, _KERNEL):
            continue
        found.add(point)
    return tuple(sorted(found))


def lockdown(project: str) -> list[Lockdown]:
    out = []
    for c in read(project):
        host, cfg = c.attrs.get("HostConfig") or {}, c.attrs.get("Config") or {}
        pid = int((c.attrs.get("State") or {}).get("Pid") or 0)
        uid, cap = _pid1(pid)
        mounts = set(host.get("Tmpfs") or {}) | {m.get("Destination", "") for m in c.attrs.get("Mounts") or ()}
        out.append(
            Lockdown(
                c.name,
                c.labels.get(SERVICE_LABEL, c.name),
                uid,
                cap,
                tuple(host.get("CapDrop") or ()),
                tuple(host.get("CapAdd") or ()),
                bool(host.get("ReadonlyRootfs")),
                any(
                    o.startswith("no-new-privileges") and not o.endswith(":false")
                    for o in host.get("SecurityOpt") or ()
                ),
                bool(host.get("Privileged")),
                int(host.get("Memory") or 0),
                int(host.get("NanoCpus") or 0),
                int(host.get("PidsLimit") or 0),
                bool((cfg.get("Healthcheck") or {}).get("Test")),
                (host.get("RestartPolicy") or {}).get("Name") or "no",
                _writable(pid),
                tuple(sorted(mounts - {""})),
                caps.of_process(pid),
            )
        )
    return sorted(out, key=lambda x: x.container)


def compose_files(project: str, listed: list | None = None) -> tuple[list[str], str | None]:
    """The compose files and folder the project was started from, as Compose labelled its containers."""
    for c in read(project, stopped=True) if listed is None else listed:
        files = [f for f in (c.labels.get(CONFIG_FILES_LABEL) or "").split(",") if f]
        if files:
            return files, c.labels.get(WORKING_DIR_LABEL)
    return [], None
