"""The service catalogue: the one source of truth compose.yaml is generated from."""

from __future__ import annotations

import contextlib
import importlib
import threading

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


# The probes' client libraries, imported only when a probe runs (together ~0.3 s).
CLIENTS = ("psycopg", "redis", "requests")


def preload() -> None:
    """Import the probes' clients in the background while the caller waits on compose, the engine or
    the network namespace: a probe needing one before it is done waits for that import (Python's own
    module lock), never imports it twice."""

    def load() -> None:
        for name in CLIENTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

    threading.Thread(target=load, name="lab-preload", daemon=True).start()


__all__ = ["SERVICES", "BY_NAME", "Endpoint", "ServiceSpec", "get", "preload"]
