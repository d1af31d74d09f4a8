"""The service catalogue: the one source of truth compose.yaml is generated from."""

from __future__ import annotations

from lab.catalogue import api, echo, postgres, redis
from lab.catalogue.spec import Endpoint, ServiceSpec
from lab.errors import UsageError

SERVICES: tuple[ServiceSpec, ...] = (echo.SPEC, api.SPEC, redis.SPEC, postgres.SPEC)
BY_NAME: dict[str, ServiceSpec] = {s.name: s for s in SERVICES}


def get(name: str) -> ServiceSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UsageError(f"unknown service {name!r}", f"choose one of: {', '.join(BY_NAME)}") from None


__all__ = ["SERVICES", "BY_NAME", "Endpoint", "ServiceSpec", "get"]
