"""Direct routing and unsafe configurations, each shown able to fail (positive controls).

Traffic goes only from namespaces the probe makes to the exact addresses of these tests' own
containers, read from the engine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager

import pytest

from lab import engine, enginefacts, harden, inventory, verify
from lab.compose_cli import Compose, find_compose
from lab.verify import neighbour
from lab.verify.checks import Status
from tests.integration.conftest import free_ports
from tests.integration.engine_rules import drops_unpublished, for_project, without_engine_rules
from tests.integration.names import container_names
from tests.integration.on_podman import as_a_podman_host

pytestmark = pytest.mark.integration


def failing(checks):
    return sorted(c.target for c in checks if c.status == Status.FAIL)


def direct_failures(checks):
    return sorted(c.target for c in checks if c.status == Status.FAIL and neighbour.is_direct(c))


def needs_root():
    if harden.can_harden() or neighbour.can_run():
        pytest.skip(f"skipped: needs root ({harden.can_harden() or neighbour.can_run()})")


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_the_stack_is_closed_to_direct_routing_and_verify_fails_without_lab_s_rule(lab_stack, hardened):
    needs_root()
    p = lab_stack.project
    with as_a_podman_host(p.name):
        rules = harden.network_rules(p.name, inventory.networks(p.name))
        containers = {c.service: c.addresses[0] for c in inventory.containers(p.name)}
        every_service = sorted(
            [
                f"tcp/{65432} direct to echo {containers['echo']}",
                f"udp/{65432} direct to echo {containers['echo']}",
                f"tcp/5000 direct to api {containers['api']}",
                f"tcp/6379 direct to redis {containers['redis']}",
                f"tcp/5432 direct to postgres {containers['postgres']}",
            ]
        )
        assert harden.missing(rules) == []  # `lab up` put it there
        assert direct_failures(verify.run(p).checks) == []
        try:
            assert harden.remove(p.name)
            with without_engine_rules(for_project(p.name)):  # Docker 28's own: a host after a firewall reload
                report = verify.run(p)
                assert direct_failures(report.checks) == every_service
                assert failing([c for c in report.checks if c.name == "firewall"]) == [
                    f"iptables raw -d {r.destination} ! -i {r.interface}" for r in rules
                ]
        finally:
            harden.apply(rules)
        assert direct_failures(verify.run(p).checks) == []


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_doctor_and_ports_tell_the_truth_about_direct_routing(lab_stack, hardened):
    """Neither report may call the stack closed or "loopback only" while a neighbour can reach it."""
    needs_root()
    p, redis_port = lab_stack.project, lab_stack.project.ports["redis"]
    with as_a_podman_host(p.name):

        def doctor_line():
            out = lab_cli("doctor", "--project", p.name)
            return out.returncode, next(line for line in out.stdout.splitlines() if line.startswith("direct routing"))

        def redis_scopes():
            out = lab_cli("ports", "--project", p.name, str(redis_port))
            return {line.split("  ")[0] + " " + line for line in out.stdout.splitlines()[1:]}

        code, line = doctor_line()
        assert code == 0 and line.split()[2:4] == ["ok", "closed:"], line
        assert all("loopback only; direct routing closed" in s for s in redis_scopes())
        rules = harden.network_rules(p.name, inventory.networks(p.name))
        try:
            harden.remove(p.name)
            with without_engine_rules(for_project(p.name)):
                code, line = doctor_line()
                assert code == 1 and line.split()[2:4] == ["FAIL", "OPEN:"], line
                assert all("EXPOSED (direct routing: open:" in s for s in redis_scopes())
        finally:
            harden.apply(rules)


CANARY = """
services:
  published:
    image: lab/echo:local
    environment: {{ECHO_PORT: "65432"}}
    ports:
      - {{target: 65432, published: "{port}", host_ip: 127.0.0.1, protocol: tcp}}
      - {{target: 65432, published: "{port}", host_ip: 127.0.0.1, protocol: udp}}
    networks: [own]
  hidden:
    image: lab/echo:local
    environment: {{ECHO_PORT: "65432"}}
    networks: [own]
networks:
  own: {{}}
"""


@pytest.fixture
def canary(engine_ok, tmp_path):
    """A project of two echo canaries on a network of its own: one published on 127.0.0.1 only, one
    not published at all. Started with plain compose, so no lab rule guards it."""
    with canary_project(tmp_path) as name:
        yield name


@contextmanager
def canary_project(tmp_path, network_options: dict[str, str] | None = None):
    """The canary project, with `network_options` as its network's driver_opts; removed after, with any
    rule lab added for it."""
    needs_root()
    name = f"labtest-direct-{secrets.token_hex(3)}"
    [port] = free_ports(1)
    text = CANARY.format(port=port)
    if network_options:
        opts = ", ".join(f"{k}: '{v}'" for k, v in network_options.items())
        text = text.replace("  own: {}", f"  own: {{driver_opts: {{{opts}}}}}")
    (tmp_path / "compose.yaml").write_text(text)
    compose = Compose(find_compose()[0], name, [tmp_path / "compose.yaml"], {}, cwd=tmp_path)
    try:
        compose.run("up", "--detach", "--pull", "never")
        yield name
    finally:
        compose.run("down", "--timeout", "1")
        harden.remove(name)


def probe(name):
    return neighbour.check(set(), inventory.containers(name), inventory.networks(name))


def canary_targets(name, service):
    [c] = [c for c in inventory.containers(name) if c.service == service]
    return sorted(f"{proto}/65432 direct to {service} {c.addresses[0]}" for proto in ("tcp", "udp"))


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_a_canary_published_on_loopback_only_is_flagged_until_hardened(canary):
    with as_a_podman_host(canary), without_engine_rules(for_project(canary)):
        # Docker accepts only published ports in FORWARD; a Podman host forwards to every container
        reached = canary_targets(canary, "published") + (
            canary_targets(canary, "hidden") if engine.kind().podman else []
        )
        assert direct_failures(probe(canary)) == sorted(reached)
        added = harden.apply(harden.wanted(canary))
        assert [r.comment for r in added] == [harden.project_comment(canary)]
        assert direct_failures(probe(canary)) == []


def test_each_closed_path_names_its_closer_the_engine_s_rule_alone_then_lab_s_in_front(canary):
    """What closes a path is read off the raw table's counters: without lab's rule the engine's own counts
    the drop; with it, lab's counts it and the engine's stands behind. On an engine that keeps no raw
    rules of its own (read from the table, never the version) there is nothing to attribute: skip."""
    ownrules = [d for d in enginefacts.raw_drops() if d.owner == "engine" and for_project(canary)(d)]
    if not ownrules:
        pytest.skip(
            "skipped: this engine keeps no raw-table rule of its own for these containers (read from the table)"
        )

    def direct():
        tried = neighbour.probe(set(), inventory.containers(canary), inventory.networks(canary)).attempts
        return [a for a in tried if a.direct]

    alone = direct()
    assert alone and {a.outcome for a in alone} == {"dropped"}
    assert all(a.closed_by.startswith("the engine's own rule") and a.counted >= 1 for a in alone), alone
    harden.apply(harden.wanted(canary))
    behind = direct()
    assert {a.outcome for a in behind} == {"dropped"}
    assert all(a.closed_by.startswith("lab's rule") and a.counted >= 1 for a in behind), behind
    assert all(a.behind and a.behind[0].startswith("the engine's own rule") for a in behind), behind


@contextmanager
def forward_policy(policy):
    """The FORWARD policy of a host that had forwarding on before Docker started; restored after."""
    rules = subprocess.run(["iptables", "-w", "5", "-S", "FORWARD"], capture_output=True, text=True, check=True)
    before = rules.stdout.splitlines()[0].split()[-1]  # "-P FORWARD DROP"
    subprocess.run(["iptables", "-w", "5", "-P", "FORWARD", policy], check=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-w", "5", "-P", "FORWARD", before], check=True)


@pytest.mark.host_exclusive  # the FORWARD policy
def test_with_forward_policy_accept_an_unpublished_port_is_reached_until_hardened(canary):
    with forward_policy("ACCEPT"), without_engine_rules(for_project(canary)):
        unhardened = direct_failures(probe(canary))
        harden.apply(harden.wanted(canary))
        hardened = direct_failures(probe(canary))
    hidden = set(canary_targets(canary, "hidden"))
    if drops_unpublished(canary):  # the engine's filter table drops unpublished ports itself (Docker 28)
        assert not hidden & set(unhardened)
    else:
        assert hidden <= set(unhardened)
    assert hardened == []


def lab_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


UNSAFE = {
    "wildcard v4": (
        'services:\n  redis:\n    ports: ["0.0.0.0:16379:6379"]\n',
        "service redis: tcp/16379->6379: host_ip 0.0.0.0",
    ),
    "wildcard v6": (
        'services:\n  redis:\n    ports: ["[::]:16379:6379"]\n',
        "service redis: tcp/16379->6379: host_ip ::",
    ),
    "LAN address": (
        'services:\n  api:\n    ports: ["192.168.1.10:15000:5000"]\n',
        "service api: tcp/15000->5000: host_ip 192.168.1.10",
    ),
    "short syntax": (
        'services:\n  postgres:\n    ports: ["15432:5432"]\n',
        "service postgres: tcp/15432->5432: published without a host IP",
    ),
    "host network": (
        "services:\n  echo:\n    network_mode: host\n    networks: !reset []\n    ports: !reset []\n",
        "service echo: network_mode: host",
    ),
    "privileged": ("services:\n  redis:\n    privileged: true\n", "service redis: privileged: true"),
    "external network": (
        "services:\n  api:\n    networks: [shared]\nnetworks:\n  shared: {external: true, name: bridge}\n",
        "service api: networks.shared: external network bridge",
    ),
    # Both started before the rule set (issue 16), the mount one with verify passing.
    "SYS_ADMIN": ("services:\n  redis:\n    cap_add: [SYS_ADMIN]\n", "service redis: cap_add SYS_ADMIN: added"),
    "host root mounted": (
        'services:\n  redis:\n    volumes: ["/:/host"]\n',
        "service redis: volumes /: mounted at /host",
    ),
    "host pid": ("services:\n  redis:\n    pid: host\n", "service redis: pid: host"),
    "host ipc": ("services:\n  redis:\n    ipc: host\n", "service redis: ipc: host"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_lab_up_refuses_an_unsafe_override_before_creating_anything(engine_ok, tmp_path, case):
    text, said = UNSAFE[case]
    override = tmp_path / "unsafe.yaml"
    override.write_text(text)
    name = f"labtest-unsafe-{secrets.token_hex(3)}"
    out = lab_cli(
        "up",
        "--project",
        name,
        "--dynamic-ports",
        "--override",
        str(override),
        env={"LAB_STATE_HOME": str(tmp_path / "state")},
    )
    assert out.returncode == 2, out.stderr
    error, hint = out.stderr.splitlines()
    assert error.startswith(f"lab: error: unsafe configuration, nothing started: {said}")
    assert hint.startswith("lab: hint: ") and str(override) in hint
    assert container_names(name) == []
    assert engine.client().networks.list(filters={"label": f"com.docker.compose.project={name}"}) == []
    assert not (tmp_path / "state" / name).exists()


def test_a_running_stack_is_left_as_it_was_when_an_unsafe_override_is_refused(lab_stack, tmp_path):
    p = lab_stack.project
    override = tmp_path / "unsafe.yaml"
    override.write_text(UNSAFE["wildcard v4"][0])
    before = {
        c.name: c.id for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={p.name}"})
    }
    state = p.state_file.read_text()
    out = lab_cli("up", "--project", p.name, "--override", str(override))
    assert out.returncode == 2 and "unsafe configuration" in out.stderr
    after = {
        c.name: c.id for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={p.name}"})
    }
    assert after == before and p.state_file.read_text() == state
    assert {
        v.name for v in engine.client().volumes.list(filters={"label": f"com.docker.compose.project={p.name}"})
    } == {f"{p.name}_redis-data", f"{p.name}_postgres-data"}


def test_a_stale_rule_of_the_project_is_pruned_when_its_rules_are_put_back(lab_stack, hardened):
    """A subnet the project no longer has (plain `docker compose down`, a recreated network) must not keep
    its DROP: the engine may hand that subnet to another network next."""
    needs_root()
    p = lab_stack.project
    stale = harden.Rule("iptables", "198.51.100.0/24", "br-gone000000", harden.project_comment(p.name))
    subprocess.run(["iptables", "-w", "5", "-t", "raw", "-I", *stale.spec()], check=True)
    try:
        added, removed = harden.sync(p.name)
        assert added == [] and len(removed) == 1 and "198.51.100.0/24" in removed[0]
        current = harden.network_rules(p.name, inventory.networks(p.name))
        assert sorted(spec[2] for _, spec in harden.tagged(p.name)) == sorted(r.destination for r in current)
    finally:
        harden.delete([stale])
