"""What Podman needs that its Docker-compatible API does not give: its own builder, and a hand with health.

- Compose's build through Podman's socket asks for BuildKit and tries to pull `moby/buildkit` (no registry
  here, and none needed): Podman builds with its own builder (buildah), which reads the same Dockerfiles,
  build args and build secrets. The command line is made from the service's *effective* build spec, so the
  compose file stays the one home of what an image is built from.
- Podman runs healthchecks from systemd timers; without systemd (a container, this CI machine) nothing runs
  them and every container stays "starting". Asking the engine to run the check is what its timer would do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lab.errors import EngineError


def build_argv(service: str, config: dict) -> list[str]:
    """`podman build` for one service of an effective config (`compose config --format json`)."""
    spec = config["services"][service]
    build = spec.get("build") or {}
    if not build:
        raise EngineError(f"service {service} has no build section to build with Podman")
    podman = shutil.which("podman")
    if not podman:
        raise EngineError("Podman's builder is missing (`podman` not found)", "apt-get install podman")
    argv = [podman, *_remote(), "build", "--format", "docker"]  # docker format: keeps HEALTHCHECK
    argv += ["--tag", spec.get("image") or f"{config.get('name', 'lab')}-{service}"]
    context = Path(build.get("context") or ".")
    if build.get("dockerfile"):
        argv += ["--file", str(context / build["dockerfile"])]
    if build.get("target"):
        argv += ["--target", build["target"]]
    for key, value in sorted((build.get("args") or {}).items()):
        argv += ["--build-arg", f"{key}={value}" if value is not None else key]
    for secret in build.get("secrets") or []:
        source = secret["source"] if isinstance(secret, dict) else secret
        ident = secret.get("target") or source if isinstance(secret, dict) else source
        found = (config.get("secrets") or {}).get(source) or {}
        if "file" in found:
            argv += ["--secret", f"id={ident},src={found['file']}"]
        elif "environment" in found:
            argv += ["--secret", f"id={ident},env={found['environment']}"]
    return [*argv, str(context)]


def _remote() -> list[str]:
    """Build on the engine lab talks to (its socket, from DOCKER_HOST or the context), not in whatever
    storage the local CLI would use."""
    from lab import engine

    host = engine.endpoint()
    return ["--remote", "--url", host] if host.startswith("unix://") else []


def _libpod(client, path: str) -> dict:
    """A GET on Podman's own API (the compatible one has no such answer); {} when it says no."""
    from urllib.parse import quote

    api = client.api
    version = client.version().get("Version", "4.0.0")  # libpod paths want Podman's version, not 1.41
    reply = api._get(f"{api.base_url}/v{version}/libpod{quote(path)}")  # docker-py's GET on its session
    return reply.json() if reply.status_code == 200 else {}


def run_healthcheck(client, container_id: str) -> str:
    """Ask Podman to run a container's healthcheck now; its status after the run ("" when it has none)."""
    return str(_libpod(client, f"/containers/{container_id}/healthcheck").get("Status", ""))


def bridge(client, network: str) -> str | None:
    """The host interface of a Podman network (netavark names them podman<N>), before any container made it."""
    return _libpod(client, f"/networks/{network}/json").get("network_interface") or None
