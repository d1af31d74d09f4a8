"""The Docker engine, through the docker SDK: one translation point for its failures."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import docker
import docker.errors

from lab.errors import EngineError, EngineUnavailable, LabError

FIXED_IN = (28, 0, 0)  # moby/moby#49325: raw-table DROP for loopback-published ports


@functools.cache
def client() -> docker.DockerClient:
    try:
        cli = docker.from_env(timeout=30)
        cli.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"Docker engine not reachable: {str(exc).splitlines()[0][:160]}") from exc
    return cli


def version() -> str:
    return client().version().get("Version", "unknown")


def parse_version(text: str) -> tuple[int, int, int]:
    parts = []
    for piece in text.split("+")[0].split("-")[0].split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)  # type: ignore[return-value]


def has_loopback_fix(text: str) -> bool:
    """Engines before 28.0.0 forward packets a neighbour sends to 127.0.0.1 into containers."""
    return parse_version(text) >= FIXED_IN


def image_id(name: str) -> str | None:
    try:
        return client().images.get(name).id
    except docker.errors.ImageNotFound:
        return None


def translate(exc: docker.errors.DockerException) -> LabError:
    """The one place an SDK failure becomes a LabError."""
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"Docker engine error: {exc.explanation or exc}")
    return EngineUnavailable(f"Docker engine not reachable: {str(exc).splitlines()[0][:160]}")


@dataclass(frozen=True)
class Kind:
    """Which engine lab talks to, from its own answers (`info`, `version`), and what that changes."""

    name: str  # "docker", "docker rootless", "podman", "podman rootless"
    cgroups: bool  # can it enforce memory/CPU/pids limits (a rootless engine on cgroup v1 cannot)

    @property
    def rootless(self) -> bool:
        return self.name.endswith("rootless")

    def meaning(self) -> str:
        said = {
            "docker": "ports published by docker-proxy and the engine's NAT rules",
            "docker rootless": "ports published by rootlesskit; the containers' subnet lives in its namespace",
            "podman": "ports published by Podman's own port handling (netavark or CNI)",
            "podman rootless": "ports published by rootlessport; the containers' subnet lives in its namespace",
        }[self.name]
        return said + ("" if self.cgroups else "; no cgroup controller: limits cannot be enforced")


@functools.cache
def kind() -> Kind:
    """The engine of this process (asked once)."""
    return detect(client().info(), client().version())


def detect(info: dict, versions: dict) -> Kind:
    components = [str(c.get("Name", "")).lower() for c in versions.get("Components") or []]
    podman = any("podman" in c for c in components) or "podman" in str(versions.get("Platform", {})).lower()
    rootless = any("rootless" in str(o) for o in info.get("SecurityOptions") or []) or bool(
        (info.get("host") or {}).get("security", {}).get("rootless")
    )
    name = ("podman" if podman else "docker") + (" rootless" if rootless else "")
    return Kind(name, str(info.get("CgroupDriver") or "").lower() not in ("", "none"))
