"""The static audit: is the *effective* configuration (`docker compose config`, every override and
env applied) safe to start?

One pure function over the config dict, used twice: `lab up` refuses an unsafe configuration
before any container or network exists, and `lab verify` reports the same findings as checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab import addr

# Namespaces shared with the host: a service there is not behind the project's bridge at all.
_HOST_NAMESPACES = ("pid", "ipc", "uts", "userns_mode")


@dataclass(frozen=True)
class Finding:
    service: str
    key: str  # where in the service: "tcp/6379->6379" (a port), "privileged", "networks.lan"
    value: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"service {self.service}: {self.key}: {self.value} ({self.detail})"

    @property
    def target(self) -> str:
        return f"{self.service} {self.key}"


def _ports(name: str, svc: dict[str, Any]) -> list[Finding]:
    out = []
    for i, port in enumerate(svc.get("ports") or []):
        if not isinstance(port, dict):  # compose config always expands ports to the long form
            out.append(Finding(name, f"ports[{i}]", repr(port), False, "not understood; use the long syntax"))
            continue
        host = port.get("host_ip")
        label = f"{port.get('protocol', 'tcp')}/{port.get('published') or '?'}->{port.get('target')}"
        if addr.is_loopback(host):
            out.append(Finding(name, label, f"host_ip {host}", True, "loopback"))
        elif not host:
            out.append(
                Finding(
                    name,
                    label,
                    "published without a host IP",
                    False,
                    "that is every interface; write 127.0.0.1:HOST:CONTAINER or host_ip: 127.0.0.1",
                )
            )
        else:
            out.append(
                Finding(name, label, f"host_ip {addr.describe(host)}", False, "publish on 127.0.0.1 or ::1 only")
            )
    return out


def _network_mode(name: str, svc: dict[str, Any]) -> list[Finding]:
    mode = svc.get("network_mode")
    if not mode or mode == "none" or mode.startswith("service:"):
        return []
    why = {
        "host": "the host's network: every port it opens is on every host interface",
        "bridge": "the engine's default bridge, shared with containers of every other project",
    }.get(mode, "another container's network namespace, outside the project")
    return [Finding(name, "network_mode", mode, False, why)]


def _privileges(name: str, svc: dict[str, Any]) -> list[Finding]:
    out = []
    if svc.get("privileged"):
        out.append(Finding(name, "privileged", "true", False, "a privileged container can rewrite the host's firewall"))
    for key in _HOST_NAMESPACES:
        if svc.get(key) == "host":
            out.append(Finding(name, key, "host", False, "shares the host's namespace"))
    return out


def _networks(name: str, svc: dict[str, Any], project: str, declared: dict[str, Any]) -> list[Finding]:
    """A service may only join networks this project creates itself (named `<project>_<key>`)."""
    out = []
    for key in svc.get("networks") or {}:
        net = declared.get(key) or {}
        real = net.get("name") or f"{project}_{key}"
        if net.get("external"):
            out.append(
                Finding(
                    name,
                    f"networks.{key}",
                    f"external network {real}",
                    False,
                    "not the project's own: lab can neither harden nor remove it",
                )
            )
        elif (net.get("driver") or "bridge") != "bridge":
            out.append(
                Finding(
                    name,
                    f"networks.{key}",
                    f"driver {net.get('driver')}",
                    False,
                    "only bridge networks sit behind the host, where lab can guard and probe them",
                )
            )
        elif real != f"{project}_{key}":
            out.append(
                Finding(
                    name,
                    f"networks.{key}",
                    f"network named {real}",
                    False,
                    f"not the project's own (it would be {project}_{key}); drop its `name:`",
                )
            )
    return out


def audit(config: dict[str, Any], project: str) -> list[Finding]:
    """Every finding, safe ones included (verify lists them), in service order."""
    declared = config.get("networks") or {}
    out: list[Finding] = []
    for name, svc in sorted((config.get("services") or {}).items()):
        out += _network_mode(name, svc) + _privileges(name, svc) + _networks(name, svc, project, declared)
        out += _ports(name, svc)
    return out


def unsafe(config: dict[str, Any], project: str) -> list[Finding]:
    return [f for f in audit(config, project) if not f.ok]
