"""verify, with a positive control for every exposure check: each must be shown able to fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from lab import engine, harden, ports, verify
from lab.catalogue import Endpoint
from lab.compose_cli import Compose
from lab.readiness import wait_until_ready
from lab.verify import neighbour, static
from lab.verify.checks import Status
from tests.integration.conftest import free_ports, new_project, stop
from tests.integration.engine_rules import for_project, without_engine_rules
from tests.integration.names import container_names
from tests.integration.on_podman import as_a_podman_host, wildcard_dnat_matches_nothing
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def failing(report_or_checks, name):
    checks = report_or_checks.checks if hasattr(report_or_checks, "checks") else report_or_checks
    return sorted(c.target for c in checks if c.name == name and c.status == Status.FAIL)


def stack_ports(p):
    return {(e.port, e.protocol) for e in p.endpoints()}


def test_verify_passes_on_the_hardened_stack_with_the_neighbour_probe_run(lab_stack, hardened):
    report = verify.run(lab_stack.project)
    others = [c for c in report.checks if c.status != Status.PASS]
    if engine.kind().podman:  # its Docker API adds writable /run and /var/tmp (echo: /tmp too) to a read-only root
        warned = {
            c.target.split()[0].rsplit("-", 2)[1]
            for c in others
            if c.status == Status.WARN and "(the engine's" in c.detail
        }
        assert warned == {"echo", "api", "redis", "postgres"}, others
        others = [c for c in others if c.status != Status.WARN]
    assert others == []
    names = {c.name for c in report.checks}
    assert names == {"reach", "static", "runtime", "drift", "sockets", "neighbour", "firewall", "browser", "lockdown"}
    nb = [c for c in report.checks if c.name == "neighbour"]
    direct = [c.target.split(" direct to ")[1].split()[0] for c in nb if " direct to " in c.target]
    assert sorted(direct) == ["api", "echo", "echo", "postgres", "redis"]  # echo: tcp and udp
    # v4/v6 veth + routed 127.0.0.1/::1, per published port; then each container's own address
    assert len(nb) == 4 * len(stack_ports(lab_stack.project)) + len(direct)


@pytest.mark.host_exclusive  # lab's loopback rules taken away
def test_neighbour_probe_sees_the_hole_until_hardened(lab_stack, hardened):
    """On an engine with raw rules of its own (Docker 28), they are taken away first: the host after a
    firewall reload, or an engine started with DOCKER_INSECURE_NO_IPTABLES_RAW=1."""
    p = lab_stack.project
    wanted = sorted(f"{proto}/{port} via 127.0.0.1 routed via host" for port, proto in stack_ports(p))
    loopback = list(harden.LOOPBACK)
    try:
        with as_a_podman_host(p.name), without_engine_rules(for_project(p.name)):
            harden.delete(loopback)
            assert failing(neighbour.check(stack_ports(p)), "neighbour") == wanted
            harden.apply(loopback)
            assert failing(neighbour.check(stack_ports(p)), "neighbour") == []
            harden.delete(loopback)
            assert failing(neighbour.check(stack_ports(p)), "neighbour") == wanted
            # The firewall check blames the missing IPv4 rule; the IPv6 one is missing too, but the probe
            # saw ::1 dropped (the kernel does it), so that one is reported, not failed.
            report = verify.run(p)
            assert failing(report, "firewall") == ["iptables raw -d 127.0.0.0/8 ! -i lo"]
            [v6] = [c for c in report.checks if c.name == "firewall" and "::1/128" in c.target]
            assert v6.status == Status.PASS and v6.detail.startswith("missing, but the probe reached nothing")
    finally:
        harden.apply(loopback)


CANARY = """
services:
  canary:
    image: lab/echo:local
    environment: {{ECHO_PORT: "65432"}}
    ports:
      - {{target: 65432, published: "{v4}", host_ip: 0.0.0.0, protocol: tcp}}
      - {{target: 65432, published: "{v4}", host_ip: 0.0.0.0, protocol: udp}}
      - {{target: 65432, published: "{v6}", host_ip: "::", protocol: tcp}}
    networks: [lab]
"""


@pytest.fixture(scope="class")
def canary_stack(lab_stack, tmp_path_factory):
    """The session's stack, then a canary on the wildcards added behind lab's back with plain compose
    (`lab up` itself refuses such a file before starting anything). The canary is removed after, and the
    stack is as it was for the tests that follow."""
    s = lab_stack
    p = s.project
    v4, v6 = free_ports(2, ("tcp", "udp"), p.hosts, avoid=set(p.ports.values()))
    override = tmp_path_factory.mktemp("canary") / "canary.yaml"
    override.write_text(CANARY.format(v4=v4, v6=v6))
    kept = p.overrides
    try:
        p.overrides = [*kept, override]
        p.compose().run("up", "--detach", "--no-build", "--pull", "never", "canary")
        if wildcard_dnat_matches_nothing(v4):
            # Podman 4.3's netavark writes the DNAT of an explicit 0.0.0.0 as `-d 0.0.0.0/32`, which matches
            # no packet: nothing answers there, on loopback or anywhere. conmon holds each port on every
            # interface (bound before the container starts) and accepts TCP: that is what the checks see.
            held = {(h.port, h.protocol, h.address) for h in ports.holders({v4, v6})}
            assert held >= {(v4, "tcp", "0.0.0.0"), (v4, "udp", "0.0.0.0"), (v6, "tcp", "::")}, held
        else:
            wait_until_ready(
                [Endpoint("echo", "127.0.0.1", v4, proto) for proto in ("tcp", "udp")], p.credentials(), timeout=30
            )
        yield s, v4, v6
    finally:
        p.compose().run("rm", "--stop", "--force", "canary")
        p.overrides = kept


class TestWildcardCanary:
    """The canary joins the session's stack for these tests only: class scope, so it is gone before the
    tests after them verify that stack."""

    def test_canary_on_wildcards_is_flagged_by_static_runtime_sockets_and_lockdown(self, canary_stack):
        """These positive controls need no root (no `hardened` fixture)."""
        s, v4, v6 = canary_stack
        report = verify.run(s.project)
        assert not report.ok
        assert failing(report, "static") == sorted(
            [f"canary tcp/{v4}->65432", f"canary tcp/{v6}->65432", f"canary udp/{v4}->65432"]
        )
        canary = [c for c in report.checks if c.name == "runtime" and c.status == Status.FAIL]
        assert {c.detail for c in canary} >= {f"HostIp 0.0.0.0 (all interfaces) port {v4}"}
        assert any(f"port {v6}" in c.detail and "::" in c.detail for c in canary), canary
        assert set(failing(report, "sockets")) >= {f"tcp/0.0.0.0:{v4}", f"udp/0.0.0.0:{v4}", f"tcp/:::{v6}"}
        # `lockdown`: the canary keeps Docker's defaults (capabilities, writable root, no limits) and is
        # flagged on each; the catalogue's containers pass.
        [canary_container] = failing(report, "lockdown")
        assert canary_container.endswith("-canary-1")
        [detail] = [c.detail for c in report.checks if c.name == "lockdown" and c.status == Status.FAIL]
        # Podman gives every container a pids limit (containers.conf's pids_limit, 2048): no [5.29] there. An
        # engine without cgroups (rootless on cgroup v1) enforces no limit: those lines say skip, not fail.
        limits = ("[5.11]", "[5.12]", *(() if engine.kind().podman else ("[5.29]",))) if engine.kind().cgroups else ()
        for clause in ("[5.4]", "[5.13]", *limits):
            assert clause in detail, detail
        # The catalogue's own services still pass everywhere (but the neighbour probe, next test).
        assert [
            c
            for c in report.checks
            if c.status == Status.FAIL
            and c.name != "neighbour"
            and "canary" not in c.target
            and str(v4) not in c.target
            and str(v6) not in c.target
        ] == []

    def test_canary_on_wildcards_is_flagged_by_the_neighbour_probe(self, canary_stack, hardened):
        s, v4, v6 = canary_stack
        report = verify.run(s.project)
        must = {f"tcp/{v4} via host veth v4", f"udp/{v4} via host veth v4", f"tcp/{v6} via host veth v6"}
        if wildcard_dnat_matches_nothing(v4):  # conmon's sockets (see canary_stack): TCP accepted, UDP unanswered
            must -= {f"udp/{v4} via host veth v4"}
        dual_stack = {f"tcp/{v6} via host veth v4"}  # a [::] listener may also accept IPv4
        # The canary's own address is routable too (published ports), unless the project rule holds: it does.
        assert must <= set(failing(report, "neighbour")) <= must | dual_stack

    def test_a_stopped_service_fails_reachability_naming_it(self, canary_stack, hardened):
        s, _v4, _v6 = canary_stack
        compose = s.project.compose()
        compose.run("stop", "redis")
        try:
            report = verify.run(s.project)
            assert {t.split()[0] for t in failing(report, "reach")} >= {"redis"}
            assert all(t.startswith(("redis", "api")) for t in failing(report, "reach"))
        finally:
            compose.run("start", "redis")


def test_a_hand_edited_compose_yaml_fails_static(lab_stack, tmp_path):
    root = lab_stack.project.root
    for name in ("compose.yaml", "compose.ipv6.yaml"):
        shutil.copy(root / name, tmp_path / name)
    (tmp_path / "services").symlink_to(root / "services")
    edited = tmp_path / "compose.yaml"
    edited.write_text(edited.read_text().replace("host_ip: 127.0.0.1", "host_ip: 0.0.0.0", 1))
    real = lab_stack.project.compose()
    compose = Compose(real.prefix, lab_stack.project.name, [edited], real.env, cwd=tmp_path)
    checks = static.check(compose.project, compose.config(), tmp_path)
    assert failing(checks, "static") == [
        "compose.yaml vs catalogue",
        f"echo tcp/{lab_stack.project.ports['echo']}->65432",
    ]


def test_verify_cli_json_schema_and_exit_codes(lab_stack, hardened):
    cmd = [sys.executable, "-m", "lab", "verify", "--project", lab_stack.project.name, "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"ok", "project", "checks"} and doc["ok"] is True
    assert all(set(c) == {"name", "target", "status", "detail"} for c in doc["checks"])
    gone = subprocess.run(
        [sys.executable, "-m", "lab", "verify", "--project", "labtest-no-such"], capture_output=True, text=True
    )
    assert gone.returncode == 2 and "no running containers" in gone.stderr


def probe_namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    return {name for name in listed if name.startswith("lab-nb-")}


@pytest.mark.host_exclusive  # counts the probes' namespaces
def test_neighbour_probe_leaves_no_namespace_behind(lab_stack):
    before = probe_namespaces()  # a probe beside this one, or one killed outright, may own some
    neighbour.check(stack_ports(lab_stack.project))
    assert probe_namespaces() - before == set()


@pytest.mark.host_exclusive  # counts the probes' namespaces
def test_the_namespace_is_removed_when_verify_is_killed(lab_stack, hardened):
    """SIGTERM in the middle of the neighbour probe (dropped packets, long timeout) still cleans up."""
    import signal

    code = (
        "from lab.verify import neighbour; "
        f"neighbour.check({{({lab_stack.project.ports['redis']}, 'tcp')}}, timeout=30)"
    )
    before = probe_namespaces()
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        made = wait_for(lambda: probe_namespaces() - before, 10, "the probe creating its namespace")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert probe_namespaces() & made == set()


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_lab_up_proves_while_the_services_boot_and_reports_what_verify_reports(engine_ok, hardened, tmp_path):
    """`lab up` begins its proof once the containers run (before it waits for them to answer), and its
    report is verify's own. Started with --no-harden, so this project's subnet has no rule: the proof
    begun early must find the direct route into every container, as `lab verify` afterwards does."""
    p = new_project()
    timings = tmp_path / "timings.jsonl"
    flags = [x for service, port in p.ports.items() for x in ("--port", f"{service}={port}")]
    env = {**os.environ, "LAB_TIMINGS": str(timings)}
    try:
        with as_a_podman_host(None):  # the project's network is made by `lab up` itself
            up = subprocess.run(
                [sys.executable, "-m", "lab", "up", "--project", p.name, "--no-harden", "--progress", "plain", *flags],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            assert up.returncode == 1, up.stdout + up.stderr
            events = [json.loads(line)["event"] for line in timings.read_text().splitlines()]
            assert events.index("verify") < events.index("up") < events.index("verified")
            assert "verify: reach, neighbour, browser, firewall: done in" in up.stderr
            again = subprocess.run(
                [sys.executable, "-m", "lab", "verify", "--project", p.name, "--json"], capture_output=True, text=True
            )
            checks = json.loads(again.stdout)["checks"]
            summary = next(line for line in up.stdout.splitlines() if line.startswith("verify FAILED"))
            fails = [c["target"] for c in checks if c["status"] == "fail"]
            # The same report: as many checks and failures, the same ones (a check begun too early, say on an
            # entrypoint still running as root, would differ here).
            assert summary.startswith(f"verify FAILED: {len(checks)} checks;") and f" {len(fails)} fail," in summary
            assert all(target in up.stdout for target in fails)
            # Where the engine keeps per-container rules (Docker 28) they closed the route for both: taken
            # away, as a firewall reload does, the route is open into every container.
            verify = [sys.executable, "-m", "lab", "verify", "--project", p.name, "--json"]
            with without_engine_rules(for_project(p.name)):
                again = subprocess.run(verify, capture_output=True, text=True)
            checks = json.loads(again.stdout)["checks"]
            direct = sorted(c["target"] for c in checks if " direct to " in c["target"] and c["status"] == "fail")
            assert len(direct) == 5  # api, echo tcp and udp, postgres, redis
    finally:
        stop(p)


@pytest.mark.host_exclusive  # counts the probes' namespaces
def test_a_lab_up_that_fails_abandons_its_proof_and_leaves_nothing(engine_ok, hardened, tmp_path):
    """The proof begins once the containers run; when the wait then fails (an api that never answers),
    lab up exits naming the service, and neither the stack nor a probe's namespace is left behind."""
    p = new_project()
    override = tmp_path / "silent-api.yaml"
    override.write_text('services:\n  api:\n    entrypoint: ["sleep", "infinity"]\n    healthcheck: {disable: true}\n')
    flags = [x for service, port in p.ports.items() for x in ("--port", f"{service}={port}")]
    timings = tmp_path / "timings.jsonl"
    before = probe_namespaces()
    try:
        up = subprocess.run(
            [sys.executable, "-m", "lab", "up", "--project", p.name, "--override", str(override), "--timeout", "8"]
            + flags,
            capture_output=True,
            text=True,
            env={**os.environ, "LAB_TIMINGS": str(timings)},
            timeout=600,
        )
        assert up.returncode == 1 and "api not ready" in up.stderr, up.stdout + up.stderr
        events = [json.loads(line)["event"] for line in timings.read_text().splitlines()]
        assert "verify" in events and "verified" not in events  # begun, then abandoned
        assert "verify" not in up.stdout
        assert container_names(p.name) == []
        assert probe_namespaces() - before == set()
    finally:
        stop(p)
