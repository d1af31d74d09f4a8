"""A stack lab did not write or start (tests/integration/foreign, short syntax, default network, a dev
server that answers any Host), run with plain Compose: `lab verify --project` names each exposure the
neighbour really reached, `lab harden --project` closes direct routing, `lab down --project` leaves the
user's containers alone. The stack itself is the positive control: everything it exposes must be flagged."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import engine, harden, hostnet, inventory
from lab.compose_cli import Compose, find_compose
from lab.verify import neighbour
from tests.integration.conftest import free_ports as pick_ports
from tests.integration.engine_rules import for_project, without_engine_rules
from tests.integration.on_podman import as_a_podman_host
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

FILES = Path(__file__).parent / "foreign"
HANG = 20.0  # s: far above a silent port's 2 s probe bound; only a hang gets here


def services() -> set[str]:
    """Compose cannot build through Podman's API (it asks for BuildKit): there the image-VOLUME service,
    which Compose builds, is left out."""
    return {"web", "tcp", "udp", "silent", "hidden", *(() if engine.kind().podman else ("scratch",))}


def lab_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    return out, time.monotonic() - start


def free_ports() -> dict[str, str]:
    hosts = ("127.0.0.1", "::1") if hostnet.has_ipv6_loopback() else ("127.0.0.1",)
    chosen = pick_ports(4, ("tcp", "udp"), hosts)
    return dict(zip(("WEB_PORT", "TCP_PORT", "UDP_PORT", "SILENT_PORT"), map(str, chosen), strict=True))


@pytest.fixture(scope="module")
def foreign(lab_stack):  # lab_stack: lab's images (the foreign stack runs lab/echo:local) are built
    name = f"labtest-foreign-{secrets.token_hex(3)}"
    env = free_ports()
    web, tcp, udp, silent = (int(env[k]) for k in ("WEB_PORT", "TCP_PORT", "UDP_PORT", "SILENT_PORT"))
    files = [FILES / "compose.yaml", *([] if engine.kind().podman else [FILES / "image-volume.yaml"])]
    compose = Compose(find_compose()[0], name, files, env, cwd=FILES)
    try:
        compose.run("up", "--detach", "--pull", "never", timeout=300)
        ready(web, tcp, udp)
        yield name, {"web": web, "tcp": tcp, "udp": udp, "silent": silent}
    finally:
        compose.run("down", "--volumes", "--rmi", "local", "--timeout", "5", timeout=300)  # and scratch's image
        if not harden.can_harden():
            harden.remove(name)


def ready(web: int, tcp: int, udp: int) -> None:
    """`compose up --detach` returns before the servers inside have bound their sockets (seen on a loaded
    host: the UDP echo silent at the first verify). Wait for each to answer, with a bound for hangs only."""
    from lab.catalogue import Endpoint
    from lab.verify import generic

    waiting = {Endpoint("web", "127.0.0.1", web, "tcp"), Endpoint("tcp", "127.0.0.1", tcp, "tcp")}
    waiting.add(Endpoint("udp", "127.0.0.1", udp, "udp"))

    def answered() -> bool:
        waiting.difference_update({e for e in waiting if generic.probe(e, timeout=1.0).reached})
        return not waiting

    wait_for(answered, 120, f"the foreign stack answering on {sorted(map(str, waiting))}")


def verify_json(name: str) -> tuple[int, dict, float]:
    out, took = lab_cli("verify", "--project", name, "--json")
    return out.returncode, json.loads(out.stdout), took


def by(doc: dict, name: str, status: str) -> list[str]:
    return sorted(c["target"] for c in doc["checks"] if c["name"] == name and c["status"] == status)


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_verify_names_every_exposure_of_a_stack_lab_did_not_start(foreign):
    if neighbour.can_run() or harden.can_harden():
        pytest.skip(f"skipped: the neighbour probe needs root ({neighbour.can_run() or harden.can_harden()})")
    name, p = foreign
    harden.remove(name)  # as the user left it: lab never touched this project
    # Docker 28's own per-container raw rules (read from the table) taken away: a host after a firewall reload
    with as_a_podman_host(name), without_engine_rules(for_project(name)):
        code, doc, took = verify_json(name)
        assert code == 1 and took < HANG
        # What the engine bound: every published port on every interface.
        assert {t.split()[0].rsplit("-", 2)[1] for t in by(doc, "runtime", "fail")} == {"web", "tcp", "udp", "silent"}
        # The neighbour reached each published port at the host's address, and the containers directly.
        reached = by(doc, "neighbour", "fail")
        for port, proto in ((p["web"], "tcp"), (p["tcp"], "tcp"), (p["udp"], "udp")):
            assert f"{proto}/{port} via host veth v4" in reached
        assert any(t.startswith("tcp/8000 direct to web ") for t in reached), reached
        assert any(t.startswith("udp/65432 direct to udp ") for t in reached), reached
        # The dev server answers any Host: a finding, with what it means and the known fixes.
        [rebind] = [c for c in doc["checks"] if c["target"] == f"web tcp/127.0.0.1:{p['web']} DNS rebinding"]
        assert (
            rebind["status"] == "fail"
            and "answers any Host" in rebind["detail"]
            and "ALLOWED_HOSTS" in rebind["detail"]
        )
        # Only HTTP ports get browser checks; the plain TCP, UDP and silent ones are reached but not attacked.
        assert {t.split()[0] for t in by(doc, "browser", "fail") + by(doc, "browser", "pass")} == {"web"}
        reach = {c["target"]: c for c in doc["checks"] if c["name"] == "reach"}
        assert reach[f"web tcp/127.0.0.1:{p['web']}"]["detail"] == "HTTP GET / -> 200"
        assert reach[f"silent tcp/127.0.0.1:{p['silent']}"]["status"] == "pass"  # reachable, bounded, no answer
        assert reach[f"udp udp/127.0.0.1:{p['udp']}"]["status"] == "pass"
        # Static: the files Compose labelled the containers with, judged by lab's rules.
        assert {t.split()[0] for t in by(doc, "static", "fail")} == {"web", "tcp", "udp", "silent"}
        # Their lockdown is their choice: warnings, never failures.
        read_only = {"scratch"} & services()  # one warn line for its lockdown, one for what it can write
        assert by(doc, "lockdown", "fail") == [] and len(by(doc, "lockdown", "warn")) == len(services()) + len(
            read_only
        )
        if read_only:
            # A read-only root with a writable mount its compose file never declared (the image's VOLUME), seen
            # in PID 1's mountinfo: the positive control for what Podman adds to every read-only container.
            [added] = [c["detail"] for c in doc["checks"] if c["target"].endswith("-scratch-1 read-only")]
            assert "do not declare: /cache " in added, added


def test_harden_closes_direct_routing_and_down_leaves_their_containers(foreign):
    if neighbour.can_run() or harden.can_harden():
        pytest.skip(f"skipped: needs root ({neighbour.can_run() or harden.can_harden()})")
    name, _ = foreign
    out, _ = lab_cli("harden", "--project", name)
    assert out.returncode == 0, out.stderr
    _, doc, _ = verify_json(name)
    assert [t for t in by(doc, "neighbour", "fail") if " direct to " in t] == []
    assert [t for t in by(doc, "firewall", "fail")] == []
    running = {c.name for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={name}"})}
    out, _ = lab_cli("down", "--project", name)
    assert out.returncode == 0 and "was not started by lab" in out.stdout
    after = {c.name for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={name}"})}
    assert after == running and len(running) == len(services())
    assert harden.tagged(name) == []


def test_status_and_ports_read_the_project_from_the_engine(foreign):
    name, p = foreign
    out, _ = lab_cli("status", "--project", name, "--json")
    rows = {r["service"]: r for r in json.loads(out.stdout)["services"]}
    assert out.returncode == 0, out.stdout
    assert set(rows) == services()
    assert rows["web"]["detail"] == "answers" and rows["hidden"]["detail"] == "-"
    out, _ = lab_cli("ports", "--project", name)
    assert out.returncode == 0, out.stderr
    web = [line for line in out.stdout.splitlines() if line.startswith(f"{p['web']} ")]
    assert web, out.stdout
    assert all("EXPOSED (all interfaces)" in line and f"{name}-web-1" in line for line in web)


def test_doctor_names_each_port_their_stack_published_off_loopback(foreign):
    name, p = foreign
    out, _ = lab_cli("doctor", "--project", name)
    assert out.returncode == 1
    web = [line for line in out.stdout.splitlines() if line.startswith(f"port {p['web']} ")]
    assert web and all("FAIL" in line and "all interfaces" in line for line in web)
    assert "lab fix" in out.stdout


def test_a_project_with_no_containers_is_one_line_and_exit_2(engine_ok):
    out, took = lab_cli("verify", "--project", f"labtest-nothing-{secrets.token_hex(3)}")
    lines = out.stderr.splitlines()
    assert out.returncode == 2 and took < HANG
    assert lines[0].startswith("lab: error: project labtest-nothing-") and "has no running containers" in lines[0]
    assert lines[1].startswith("lab: hint: ")


def project_exists(name: str) -> bool:
    cli = engine.client()
    mine = {"label": f"com.docker.compose.project={name}"}
    return bool(cli.containers.list(all=True, filters=mine) or cli.networks.list(filters=mine))


def test_lab_up_refuses_the_stack_as_written_before_creating_anything(lab_stack):
    name = f"labtest-fup-{secrets.token_hex(3)}"
    out, _ = lab_cli("up", "-f", str(FILES / "compose.yaml"), "--project", name, env=free_ports())
    lines = out.stderr.splitlines()
    assert out.returncode == 2, out.stderr
    assert lines[0].startswith("lab: error: unsafe configuration, nothing started: service ")
    assert "published without a host IP" in lines[0] and "(compose.yaml:" in lines[0]
    assert "lab up --fix" in lines[1]
    assert not project_exists(name)


def test_lab_up_fix_passes_every_exposure_check_and_keeps_the_any_host_finding(lab_stack):
    if neighbour.can_run() or harden.can_harden():
        pytest.skip(f"skipped: needs root ({neighbour.can_run() or harden.can_harden()})")
    name = f"labtest-fup-{secrets.token_hex(3)}"
    env = free_ports()
    try:
        out, _ = lab_cli("up", "-f", str(FILES / "compose.yaml"), "--project", name, "--fix", env=env)
        assert out.returncode == 1, out.stdout + out.stderr  # the dev server still answers any Host
        _, doc, _ = verify_json(name)
        failing = sorted(f"{c['name']} {c['target']}" for c in doc["checks"] if c["status"] == "fail")
        web = env["WEB_PORT"]
        rebinding = [f"browser web tcp/127.0.0.1:{web} DNS rebinding"]
        if hostnet.has_ipv6_loopback() and engine.kind().v6_to_v4:  # else lab publishes on 127.0.0.1 only
            rebinding.append(f"browser web tcp/[::1]:{web} DNS rebinding")
        assert failing == sorted(rebinding)
        names = {c["name"] for c in doc["checks"]}
        assert {"runtime", "sockets", "neighbour", "static", "firewall", "reach"} <= names
    finally:
        files, _ = inventory.compose_files(name)
        if files:
            Compose(find_compose()[0], name, [Path(f) for f in files], env, cwd=FILES).run(
                "down", "--volumes", "--timeout", "5", timeout=300
            )
        if not harden.can_harden():
            harden.remove(name)


ONE_SHOT = """services:
  migrate:
    image: {base}
    command: ["sh", "-c", "echo migrating; exit {code}"]
  web:
    image: {base}
    command: ["sleep", "600"]
{web}"""


@pytest.mark.parametrize("code", [0, 3])
def test_a_one_shot_job_that_completed_is_no_death_and_one_that_failed_is(lab_stack, tmp_path, code):
    """A migration others wait for (`service_completed_successfully`), as real projects have: its exit 0 ends
    nothing, and `lab up -f` succeeds. The control: a job nobody waits for exits 3 while lab waits, and the
    wait ends at once naming it (not at its timeout)."""
    from lab.images import ensure_base

    name = f"labtest-oneshot-{secrets.token_hex(3)}"
    if code == 0:
        web = "    depends_on:\n      migrate:\n        condition: service_completed_successfully\n"
    else:  # never healthy, never unhealthy within the test: the wait goes on until migrate's exit ends it
        web = '    healthcheck:\n      test: ["CMD", "false"]\n      interval: 1s\n      retries: 10000\n'
    (tmp_path / "compose.yaml").write_text(ONE_SHOT.format(base=ensure_base(), code=code, web=web))
    try:
        out, _ = lab_cli("up", "-f", str(tmp_path / "compose.yaml"), "--project", name, "--timeout", "120")
        if code == 0:
            assert out.returncode == 0, out.stderr
        else:
            assert out.returncode != 0
            assert "migrate not ready: its container exited (code 3)" in out.stderr, out.stderr
    finally:
        Compose(find_compose()[0], name, [tmp_path / "compose.yaml"], {}, cwd=tmp_path).run(
            "down", "--timeout", "1", timeout=120
        )
        if not harden.can_harden():
            harden.remove(name)
