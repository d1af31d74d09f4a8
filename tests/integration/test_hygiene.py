"""The suite keeps to its own: a temporary state home, and a killed run's leftovers found exactly."""

from __future__ import annotations

import os
import secrets
import tempfile
import time

import pytest

from lab import engine, project
from tests.integration.conftest import STALE, remove_leftovers

pytestmark = pytest.mark.integration
LABEL = "com.docker.compose.project"


def test_the_session_uses_a_temporary_state_home(lab_stack):
    home = os.environ["LAB_STATE_HOME"]
    assert home.startswith(tempfile.gettempdir()) and "lab-test-state-" in home
    assert project.state_home() == lab_stack.project.state_root


def test_a_killed_runs_leftovers_are_found_exactly_and_removed(engine_ok):
    cli = engine.client()
    name = f"labtest-leftover-{secrets.token_hex(3)}"
    mine = {LABEL: name}
    cli.volumes.create(f"{name}_data", labels=mine)
    cli.networks.create(f"{name}_net", labels=mine)
    cli.containers.run("lab/echo:local", detach=True, labels=mine, name=f"{name}-echo-1", network=f"{name}_net")
    try:
        assert remove_leftovers(prefix=name) == []  # young: a session may be using it
        assert remove_leftovers(now=time.time() + 2 * STALE, prefix=name) == [name]
        gone = {"label": f"{LABEL}={name}"}
        assert cli.containers.list(all=True, filters=gone) == []
        assert cli.networks.list(filters=gone) == [] and cli.volumes.list(filters=gone) == []
    finally:
        remove_leftovers(now=time.time() + 2 * STALE, prefix=name)
