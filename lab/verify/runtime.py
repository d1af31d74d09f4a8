"""Runtime bindings: what the engine really published for every container of the project."""

from __future__ import annotations

from lab import addr
from lab.inventory import Binding
from lab.verify.checks import FAIL, PASS, Check


def check(found: list[Binding]) -> list[Check]:
    return [
        Check(
            "runtime",
            f"{b.container} {b.protocol}/{b.container_port}",
            PASS if addr.is_loopback(b.host_ip) else FAIL,
            f"HostIp {b.host_ip}:{b.host_port}"
            if addr.is_loopback(b.host_ip)
            else f"HostIp {addr.describe(b.host_ip)} port {b.host_port}",
        )
        for b in found
    ]
