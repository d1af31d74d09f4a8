"""Unit tests talk to no engine, so the one the environment names must not change what they compute."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def system_engine(monkeypatch):
    """`make test ENGINE=podman` runs the whole suite with DOCKER_HOST set to Podman's socket, and a
    project's state lives in a per-engine folder there: each unit test starts from the system engine
    (a test about engines sets its own DOCKER_HOST)."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
