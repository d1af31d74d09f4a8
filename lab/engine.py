"""The Docker engine, through the docker SDK: one translation point for its failures."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass

import docker
import docker.errors

from lab.errors import EngineError, EngineUnavailable, LabError

DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"


def _context():
    """The docker CLI's context when DOCKER_HOST is not set: Compose follows it, so lab must too."""
    import docker.context

    name = os.environ.get("DOCKER_CONTEXT") or docker.context.config.get_current_context_name()
    found = docker.context.ContextAPI.get_context(name)
    if found is None:
        raise EngineUnavailable(
            f"docker context {name!r} does not exist", "`docker context ls` lists them; `docker context use default`"
        )
    return found


def endpoint() -> str:
    """Where the engine is, as Compose and the docker CLI would find it: DOCKER_HOST, else the context."""
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        return explicit
    return _context().Host or DEFAULT_ENDPOINT


def state_key() -> str | None:
    """The folder that keeps one engine's projects apart from another's (None for the system engine).

    A project's credentials unlock volumes on one engine only: the same project name on a second engine
    (rootless, Podman, a remote context) is another stack and gets its own state (issue 20's data loss).
    Read from the environment alone, so it costs no round trip."""
    where = endpoint()
    if where == DEFAULT_ENDPOINT or _socket_path(where) == _socket_path(DEFAULT_ENDPOINT):
        return None  # the system engine, however it is spelled (/var/run is /run here)
    readable = re.sub(r"[^A-Za-z0-9]+", "-", where.split("://", 1)[-1]).strip("-")[-40:]
    return f"{readable}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def _socket_path(where: str) -> str | None:
    return os.path.realpath(where.split("://", 1)[1]) if where.startswith("unix://") else None


@functools.cache
def client() -> docker.DockerClient:
    try:
        if os.environ.get("DOCKER_HOST"):
            cli = docker.from_env(timeout=30)
        else:
            ctx = _context()
            cli = docker.DockerClient(base_url=ctx.Host or DEFAULT_ENDPOINT, tls=ctx.TLSConfig or False, timeout=30)
        cli.ping()
    except docker.errors.DockerException as exc:
        raise unreachable(exc) from exc
    return cli


def unreachable(exc: Exception) -> EngineUnavailable:
    """One line on why the engine did not answer, and the one thing to do about it for that endpoint."""
    where = endpoint()
    why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    path = where.split("://", 1)[1] if where.startswith("unix://") else ""
    if path and os.path.exists(path) and not _is_socket(path):
        return EngineUnavailable(
            f"{path} is not a socket, so no engine", "point DOCKER_HOST at the engine's socket (`docker context ls`)"
        )
    down = not path or not os.path.exists(path) or "refused" in why.lower()
    if path and not os.path.exists(path):
        why = "no such socket"
    if path and "Permission denied" in why:
        hint = f"you may not use {path}: join its group (`usermod -aG docker $USER`) or run a rootless engine"
    elif not down:  # it accepted the connection: something else listens there
        hint = "that socket answers, but not as a Docker engine API: point DOCKER_HOST at the engine's socket"
        why = f"not a Docker engine API ({why})"
    elif "podman" in path:
        hint = f"start Podman's API service: `podman system service --time=0 {where} &`"
    elif path and path != DEFAULT_ENDPOINT.split("://", 1)[1]:
        hint = (
            "start that engine (rootless Docker: `systemctl --user start docker` or `dockerd-rootless.sh`), "
            "or unset DOCKER_HOST for the system one"
        )
    else:
        hint = EngineUnavailable.hint
    return EngineUnavailable(f"Docker engine not reachable at {where}: {why}", hint)


def _is_socket(path: str) -> bool:
    import stat

    return stat.S_ISSOCK(os.stat(path).st_mode)


def version() -> str:
    return client().version().get("Version", "unknown")


def image_id(name: str) -> str | None:
    try:
        return client().images.get(name).id
    except docker.errors.ImageNotFound:
        return None


def translate(exc: docker.errors.DockerException) -> LabError:
    """The one place an SDK failure becomes a LabError."""
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"Docker engine error: {exc.explanation or exc}")
    return unreachable(exc)


@dataclass(frozen=True)
class Kind:
    """Which engine lab talks to, from its own answers (`info`, `version`), and what that changes."""

    name: str  # "docker", "docker rootless", "podman", "podman rootless"
    cgroups: bool  # can it enforce memory/CPU/pids limits (a rootless engine on cgroup v1 cannot)
    v6_to_v4: bool = True  # does [::1]:port reach an IPv4-only container (docker-proxy, rootlesskit: yes)

    @property
    def rootless(self) -> bool:
        return self.name.endswith("rootless")

    @property
    def podman(self) -> bool:
        return self.name.startswith("podman")

    def meaning(self) -> str:
        said = {
            "docker": "ports published by docker-proxy and the engine's NAT rules",
            "docker rootless": "ports published by rootlesskit; the containers' subnet lives in its namespace",
            "podman": "ports published by Podman's own port handling (netavark or CNI); its Docker API gives a"
            " read-only container writable /run, /tmp and /var/tmp (verify reports what it finds)",
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
        info.get("Rootless") or (info.get("host") or {}).get("security", {}).get("rootless")
    )
    name = ("podman" if podman else "docker") + (" rootless" if rootless else "")
    # Podman's netavark forwards a published port by NAT only: [::1] has no IPv4 container to go to
    # (seen here: every [::1] probe timed out while 127.0.0.1 answered).
    return Kind(name, str(info.get("CgroupDriver") or "").lower() not in ("", "none"), v6_to_v4=not podman)
