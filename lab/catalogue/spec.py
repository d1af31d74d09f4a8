"""What a service is: the shape every catalogue entry fills in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lab.addr import host_port


@dataclass(frozen=True)
class Endpoint:
    """One published socket as a client on the host sees it."""

    service: str
    host: str  # a loopback literal: "127.0.0.1" or "::1"
    port: int
    protocol: str = "tcp"

    @property
    def address(self) -> str:
        return host_port(self.host, self.port)

    def __str__(self) -> str:
        return f"{self.protocol}/{self.address}"


class Credentials(Protocol):
    redis_password: str
    postgres_password: str
    postgres_user: str
    postgres_db: str


# A probe speaks the service's real protocol to one endpoint and returns a short
# detail ("PONG in 0.4 ms"); it raises ProbeFailed with a precise reason otherwise.
Probe = Callable[[Endpoint, Credentials, float], str]


# What an entrypoint that starts as root (to read the secrets and prepare its files) needs, and no more: it makes
# its files as root, hands them over, and setpriv drops to the service user before exec. Not DAC_OVERRIDE
# or FOWNER: root may write only what it owns (the entrypoints are written for that).
DROP_TO_USER = {
    "CHOWN": "the entrypoint hands the files it made on a root-owned tmpfs to the service user",
    "SETUID": "setpriv switches to the service user before exec",
    "SETGID": "setpriv switches to the service group before exec",
}


@dataclass(frozen=True)
class WebSurface:
    """What a web page could try on an HTTP service: read `read` (GET), write `write` (POST)."""

    read: str
    write: str


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    summary: str
    container_port: int
    default_host_port: int
    protocols: tuple[str, ...]
    probe: Probe
    secrets: tuple[str, ...] = ()
    build_secrets: tuple[str, ...] = ()  # e.g. ("ca_bundle",) for a build that runs pip
    volumes: dict[str, str] = field(default_factory=dict)  # volume name -> mount path
    environment: dict[str, str] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    stop_signal: str | None = None
    stop_grace_period: str = "10s"
    web: WebSurface | None = None  # set for HTTP services: verify's `browser` check attacks them
    # Locked down: every container drops ALL capabilities and gets back only these (name -> why), runs on
    # a read-only root with `tmpfs` where a process writes, and within these limits (sized from measured
    # peaks with headroom: see each catalogue module).
    capabilities: dict[str, str] = field(default_factory=dict)
    mem_limit: str = "256m"
    cpus: float = 1.0
    pids_limit: int = 64

    @property
    def port_env(self) -> str:
        """The only knob compose.yaml interpolates for this service: its host port."""
        return f"LAB_{self.name.upper()}_PORT"

    @property
    def image(self) -> str:
        return f"lab/{self.name}:local"
