"""lab makes the project's networks itself; compose must then use them as they are."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from lab import engine, networks
from lab.compose_cli import find_compose

pytestmark = pytest.mark.integration


def test_compose_uses_the_network_lab_made_and_down_removes_it(engine_ok, tmp_path):
    project = f"labtest-net-{secrets.token_hex(3)}"
    (tmp_path / "compose.yaml").write_text(
        "services:\n  s:\n    image: lab/echo:local\n    networks: [lab]\n"
        "networks:\n  lab:\n    driver: bridge\n    driver_opts:\n"
        "      com.docker.network.bridge.host_binding_ipv4: '127.0.0.1'\n"
    )
    argv, version = find_compose()
    base = [*argv, "--project-name", project, "--file", str(tmp_path / "compose.yaml")]
    config = json.loads(subprocess.run([*base, "config", "--format", "json"], capture_output=True, text=True).stdout)
    made = networks.ensure(config, project, version)
    try:
        assert networks.ensure(config, project, version) == made  # found, not made twice
        net = engine.client().networks.get(made[f"{project}_lab"])
        # Podman's Docker API keeps no `com.docker.network.bridge.*` option: there only lab's refusal of a
        # port without a host IP keeps it off the LAN, not this default.
        kept = {} if engine.kind().podman else {"com.docker.network.bridge.host_binding_ipv4": "127.0.0.1"}
        assert net.attrs["Options"] == kept
        up = subprocess.run([*base, "up", "-d", "--no-build", "--pull", "never"], capture_output=True, text=True)
        assert up.returncode == 0, up.stderr
        assert networks.replaced(made) == []
        assert "exists but was not created" not in up.stderr
    finally:
        subprocess.run([*base, "down", "--timeout", "1"], capture_output=True)
    assert engine.client().networks.list(names=[f"{project}_lab"]) == []


def test_a_container_that_only_inherited_the_project_label_is_not_the_projects(lab_stack):
    """Images compose builds carry its project and service labels; a container run from one inherits
    them. It is not one of the project's services: inventory (and so verify) leaves it out."""
    from lab import inventory

    p = lab_stack.project
    stray = engine.client().containers.run(
        "lab/echo:local",
        detach=True,
        labels={"com.docker.compose.project": p.name, "com.docker.compose.service": "api"},
    )
    try:
        names = {c.name for c in inventory.containers(p.name)} | {c.name for c in inventory.states(p.name)}
        assert stray.name not in names
        assert {c.service for c in inventory.states(p.name)} == {"echo", "api", "redis", "postgres"}
    finally:
        stray.remove(force=True)
