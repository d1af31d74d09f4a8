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


@pytest.mark.host_exclusive  # sweeps every dead probe's namespace
def test_a_killed_probes_rules_are_swept_by_the_next_probe(monkeypatch):
    """SIGKILL leaves no `finally`: its FORWARD guard and raw counting rule stay. The next probe removes the
    rules of veths that are gone, and only those."""
    import subprocess

    from lab.verify import neighbour

    if neighbour.can_run():
        pytest.skip(f"skipped: {neighbour.can_run()}")
    stale = [
        ("filter", "FORWARD", "-i labhdead01 -o lo -m comment --comment lab-probe-guard -j DROP"),
        ("raw", "PREROUTING", "-i labhdead01 -d 127.0.0.0/8 -m comment --comment lab-probe-count"),
    ]
    for table, chain, rule in stale:
        subprocess.run(["iptables", "-w", "5", "-t", table, "-I", chain, *rule.split()], check=True)
    # and its namespace, with no process in it; one a live probe is in stays (age set aside: STALE = 0)
    subprocess.run(["ip", "netns", "add", "lab-nb-dead01"], check=True)
    subprocess.run(["ip", "netns", "add", "lab-nb-live01"], check=True)
    inside = subprocess.Popen(["ip", "netns", "exec", "lab-nb-live01", "sleep", "60"])
    try:
        while not subprocess.run(["ip", "netns", "pids", "lab-nb-live01"], capture_output=True, text=True).stdout:
            assert inside.poll() is None
        monkeypatch.setattr(neighbour, "STALE", 0.0)
        neighbour.check(set(), [], [])
        for table, chain, rule in stale:
            assert subprocess.run(["iptables", "-w", "5", "-t", table, "-C", chain, *rule.split()]).returncode != 0
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert "lab-nb-dead01" not in listed and "lab-nb-live01" in listed
    finally:
        inside.kill()
        inside.wait()
        for ns in ("lab-nb-dead01", "lab-nb-live01"):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for table, chain, rule in stale:
            subprocess.run(["iptables", "-w", "5", "-t", table, "-D", chain, *rule.split()], capture_output=True)
