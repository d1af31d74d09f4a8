"""Catalogue -> compose model (plain dicts in Compose-spec shape).

Loopback by construction: every published port carries a literal loopback
`host_ip`. Only host *ports* are interpolated (`${LAB_REDIS_PORT:-6379}`); the
host IP never is, so no environment can widen the exposure.
"""

from __future__ import annotations

import json
from typing import Any

from lab.addr import LOOPBACK_V4, LOOPBACK_V6
from lab.catalogue import SERVICES, ServiceSpec

PROJECT = "lab"
NETWORK = "lab"
BASE_IMAGE_DEFAULT = "lab/base:bookworm"
CA_BUNDLE_DEFAULT = "/etc/ssl/certs/ca-certificates.crt"
SECRETS_DIR_DEFAULT = "${HOME}/.local/state/lab/lab/secrets"  # = lab.project.state_home(); .env says where
HEALTHCHECK = ["CMD", "/usr/local/bin/lab-healthcheck"]


def host_port(spec: ServiceSpec) -> str:
    return f"${{{spec.port_env}:-{spec.default_host_port}}}"


def published_ports(spec: ServiceSpec, host_ip: str) -> list[dict[str, Any]]:
    return [
        {"target": spec.container_port, "published": host_port(spec), "host_ip": host_ip, "protocol": proto}
        for proto in spec.protocols
    ]


def host_addresses() -> str:
    """JSON map of each service's loopback address on the host, for the API's status page."""
    return json.dumps({s.name: f"{LOOPBACK_V4}:{host_port(s)}" for s in SERVICES}, separators=(",", ":"))


def service_model(spec: ServiceSpec) -> dict[str, Any]:
    build: dict[str, Any] = {
        "context": f"services/{spec.name}",
        "args": {"BASE_IMAGE": f"${{LAB_BASE_IMAGE:-{BASE_IMAGE_DEFAULT}}}"},
    }
    if spec.build_secrets:
        build["secrets"] = list(spec.build_secrets)
    model: dict[str, Any] = {"image": spec.image, "build": build}
    environment = dict(spec.environment)
    if spec.name == "api":
        environment["LAB_HOST_ADDRESSES"] = host_addresses()
    if environment:
        model["environment"] = environment
    if spec.secrets:
        model["secrets"] = list(spec.secrets)
    if spec.volumes:
        model["volumes"] = [f"{name}:{path}" for name, path in spec.volumes.items()]
    if spec.tmpfs:
        model["tmpfs"] = list(spec.tmpfs)
    model["ports"] = published_ports(spec, LOOPBACK_V4)
    model["networks"] = [NETWORK]
    if spec.depends_on:
        model["depends_on"] = list(spec.depends_on)
    # Every 5 s: each check is an exec through the engine (runc, shim, a process in the container: ~80 ms
    # of CPU), and at 1 s an idle stack of four kept a third of a core busy. lab's own readiness is its
    # protocol probes, never this status; `start_interval` (quick checks while starting) needs API 1.44,
    # which Docker 20.10 and Podman's API lack, and Compose refuses it there.
    model["healthcheck"] = {"test": HEALTHCHECK, "interval": "5s", "timeout": "3s", "retries": 3, "start_period": "60s"}
    model["restart"] = "unless-stopped"
    model["security_opt"] = ["no-new-privileges:true"]
    model["cap_drop"] = ["ALL"]
    if spec.capabilities:
        model["cap_add"] = sorted(spec.capabilities)
    model["read_only"] = True
    model["mem_limit"] = spec.mem_limit
    model["cpus"] = spec.cpus
    model["pids_limit"] = spec.pids_limit
    if spec.stop_signal:
        model["stop_signal"] = spec.stop_signal
    model["stop_grace_period"] = spec.stop_grace_period
    return model


def compose_model() -> dict[str, Any]:
    """The whole of compose.yaml."""
    # The host's CA bundle reaches builds that fetch over TLS as a BuildKit secret: never a layer.
    secrets: dict[str, Any] = {"ca_bundle": {"file": f"${{LAB_CA_BUNDLE:-{CA_BUNDLE_DEFAULT}}}"}}
    for name in sorted({s for spec in SERVICES for s in spec.secrets}):
        secrets[name] = {"file": f"${{LAB_SECRETS_DIR:-{SECRETS_DIR_DEFAULT}}}/{name}"}
    return {
        "name": PROJECT,
        "services": {spec.name: service_model(spec) for spec in SERVICES},
        "networks": {
            NETWORK: {
                "driver": "bridge",
                # Second line of defence: a port published without a host IP binds loopback only.
                "driver_opts": {"com.docker.network.bridge.host_binding_ipv4": LOOPBACK_V4},
            }
        },
        "volumes": {name: {} for spec in SERVICES for name in spec.volumes},
        "secrets": secrets,
    }


def ipv6_model() -> dict[str, Any]:
    """compose.ipv6.yaml: the same ports on ::1, added only on hosts with IPv6 loopback."""
    return {"services": {spec.name: {"ports": published_ports(spec, LOOPBACK_V6)} for spec in SERVICES}}
