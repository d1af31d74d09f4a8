"""The API in-process: `create_app(settings)` with Starlette's TestClient, no Docker.

Its dependencies point at closed loopback ports, so every request that reaches redis, postgres or
echo meets a real refused connection (503), while everything decided before them — Host and Origin
checks, routing, validation, body limits — is exercised as it runs in the container.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "services" / "api"))

from app.config import Settings
from app.main import create_app

PUBLISHED = 15000


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    dead = closed_port()
    return Settings(
        redis_host="127.0.0.1",
        redis_port=dead,
        redis_username=None,
        redis_password="x",
        postgres_host="127.0.0.1",
        postgres_port=dead,
        postgres_password="x",
        echo_host="127.0.0.1",
        echo_port=dead,
        dep_timeout=0.2,
        host_addresses={"api": f"127.0.0.1:{PUBLISHED}"},
        postgres_pool_min=0,
    )


@pytest.fixture(scope="session")
def client(settings):
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings), base_url=f"http://127.0.0.1:{PUBLISHED}") as c:
        yield c
