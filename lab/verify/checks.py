"""A verify check: named, with a target, a status and a one-line detail."""
from __future__ import annotations

from dataclasses import asdict, dataclass

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def loopback_host(host: str | None) -> bool:
    """Only a literal loopback address is acceptable; empty means all interfaces."""
    if not host:
        return False
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def describe_host(host: str | None) -> str:
    if not host:
        return "empty host_ip (all interfaces)"
    if host in ("0.0.0.0", "::", "[::]"):
        return f"{host} (all interfaces)"
    return f"{host} (not loopback)"
