"""The options that re-open, on purpose, what Docker 28's own raw-table rules close: positive controls on a
real engine started with each (an engine host: they restart its dockerd, so `make test ENGINE=docker28`
runs them alone after the rest; elsewhere they skip, saying so).

- `DOCKER_INSECURE_NO_IPTABLES_RAW=1` in dockerd's environment (28.0.2): no raw-table rule at all;
- `"allow-direct-routing": true` in daemon.json (28.2): no per-container rule against direct routing;
- a network with `com.docker.network.bridge.trusted_host_interfaces` (28.2): an ACCEPT in front of that rule
  for the interfaces named (`labh+`: the probe's veth, as a user's `eth+` would name a LAN uplink).

Each time the engine's rules are read from the table (never assumed from the option), the neighbour probe
must see the path open without lab's rules and closed with them. Traffic goes only from the probe's own
namespace to these tests' containers, inside the engine host.
"""

from __future__ import annotations

import pytest

from lab import addr, enginefacts, harden, inventory
from lab.verify import firewall, neighbour
from lab.verify.checks import Status
from tests.integration import enginehost
from tests.integration.engine_rules import for_project
from tests.integration.test_exposure import canary_project, canary_targets, direct_failures, failing, probe

pytestmark = pytest.mark.integration

TRUSTED = "labh+"  # every probe veth (lab/verify/neighbour.py names them labh<tag>)


def engine_rules(name):
    return [d for d in enginefacts.raw_drops() if d.owner == "engine" and for_project(name)(d)]


def shown(name):
    """What the probe saw, for an assertion's message."""
    return [f"{c.target}: {c.status}" for c in probe(name)]


def test_docker_insecure_no_iptables_raw_leaves_no_engine_rule_and_lab_s_close_the_path(engine_ok, tmp_path):
    insecure = {"DOCKER_INSECURE_NO_IPTABLES_RAW": "1"}
    with enginehost.engine_started_with(environment=insecure), canary_project(tmp_path) as name:
        assert engine_rules(name) == [], "the engine wrote raw rules although told not to"
        published = canary_targets(name, "published")
        assert direct_failures(probe(name)) == published, shown(name)
        harden.apply(harden.wanted(name))
        assert failing(probe(name)) == [], shown(name)


def test_allow_direct_routing_drops_the_per_container_rule_and_lab_s_close_the_path(engine_ok, tmp_path):
    with enginehost.engine_started_with(daemon={"allow-direct-routing": True}), canary_project(tmp_path) as name:
        rules = engine_rules(name)
        assert not [d for d in rules if not addr.is_loopback(d.destination.split("/")[0])], rules
        published = canary_targets(name, "published")
        assert direct_failures(probe(name)) == published, shown(name)
        harden.apply(harden.wanted(name))
        assert failing(probe(name)) == [], shown(name)


def test_a_trusted_host_interface_is_let_through_until_lab_s_rule_and_no_engine_rule_is_claimed(engine_ok, tmp_path):
    enginehost.skip_unless_restartable()  # the same engine host: 28.2 reads the option; 20.10 ignores it
    with canary_project(tmp_path, {"com.docker.network.bridge.trusted_host_interfaces": TRUSTED}) as name:
        assert [d for d in engine_rules(name) if not addr.is_loopback(d.destination.split("/")[0])], (
            "the engine's per-container rule should still be there, behind its ACCEPT for the trusted interface"
        )
        published = canary_targets(name, "published")
        assert direct_failures(probe(name)) == published, shown(name)
        harden.apply(harden.wanted(name))
        assert failing(probe(name)) == [], shown(name)
        # closed by lab's rule alone: the engine's DROP is no guard behind it for a trusted interface
        seen = neighbour.probe(set(), inventory.containers(name), inventory.networks(name))
        direct = [a for a in seen.attempts if a.direct and a.host in {t.split()[-1] for t in published}]
        assert direct and all(a.closed_by.startswith("lab's rule") and not a.behind for a in direct), direct
        said = [c.detail for c in firewall.check(name, seen) if c.status == Status.PASS]
        assert any(f"it lets {TRUSTED} past them" in d for d in said), said
