"""A second engine beside the system Docker (issue 19): rootful Podman behind its Docker-compatible API,
started and stopped by the project's own `.ci/engine`. The same `lab up`, `verify` and `down` run there
and report only what they saw; the same project name on two engines is two stacks with two states
(issue 20's data loss: a run on one engine removed the other's credentials)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lab import harden, hostnet
from lab import project as projects
from lab.catalogue import SERVICES
from tests.integration.conftest import PREFIX, free_ports

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "engine"
BOUND = 900  # s: a first run bootstraps the base into Podman and builds four images (~3 min here)


@pytest.fixture(scope="module")
def podman():
    if os.geteuid() != 0:
        pytest.skip("skipped: starting Podman's API service needs root")
    running = already_running("podman")  # `make test ENGINE=podman` runs these beside the engine it started
    out = subprocess.run(["bash", str(SCRIPT), "start", "podman"], capture_output=True, text=True, timeout=BOUND)
    if out.returncode != 0 and "could not install" in out.stderr:
        pytest.skip(f"skipped: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr
    host = out.stdout.strip().rpartition("DOCKER_HOST=")[2]
    assert host.startswith("unix://"), out.stdout
    try:
        yield {"DOCKER_HOST": host}
    finally:
        if not running:
            subprocess.run(["bash", str(SCRIPT), "stop", "podman"], capture_output=True, timeout=120)


def already_running(which: str) -> bool:
    """An engine someone else started (`.ci/test-on`, a CI job) is left as it was found."""
    return subprocess.run(["bash", str(SCRIPT), "env", which], capture_output=True).returncode == 0


def lab(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=BOUND, env={**os.environ, **env}
    )


def port_flags() -> list[str]:
    chosen = free_ports(len(SERVICES))
    return [f for s, p in zip(SERVICES, chosen, strict=True) for f in ("--port", f"{s.name}={p}")]


def name(what: str) -> str:
    return f"{PREFIX}{what}-{os.urandom(3).hex()}"


def test_podman_runs_the_stack_and_verify_proves_it_with_the_same_checks(podman):
    project = name("podman")
    try:
        up = lab(podman, "up", "--project", project, *port_flags(), "--progress", "plain", "--no-verify")
        assert up.returncode == 0, up.stderr[-2000:]
        out = lab(podman, "verify", "--project", project, "--json")
        doc = json.loads(out.stdout)
        statuses = {(c["name"], c["status"]) for c in doc["checks"]}
        assert out.returncode == 0, [c for c in doc["checks"] if c["status"] != "pass"]
        assert ("neighbour", "skip") not in statuses and ("firewall", "skip") not in statuses
        neighbour = [c for c in doc["checks"] if c["name"] == "neighbour"]
        assert len([c for c in neighbour if " direct to " in c["target"]]) == 5  # every container address
        assert all(c["status"] == "pass" for c in neighbour)
        # lab's rule names Podman's own bridge, read from the engine, not Docker's br-<id>
        assert any(c["name"] == "firewall" and "! -i podman" in c["target"] for c in doc["checks"]), doc["checks"]
        # Podman's Docker API adds writable /run, /tmp and /var/tmp to every read-only container; the
        # catalogue declares /tmp for all but echo. Seen in each PID 1's mountinfo, named as the engine's.
        added = {
            c["target"].split()[0]: c["detail"]
            for c in doc["checks"]
            if c["name"] == "lockdown" and c["target"].endswith(" read-only")
        }
        assert len(added) == 4 and all(
            c["status"] == "warn" for c in doc["checks"] if c["target"].endswith(" read-only")
        )
        for container, detail in added.items():
            engine_own = "/run, /tmp, /var/tmp" if "-echo-" in container else "/run, /var/tmp"
            assert f"do not declare: {engine_own} (the engine" in detail, (container, detail)
        status = lab(podman, "status", "--project", project)
        assert status.returncode == 0 and status.stdout.count("running (healthy)") == 4, status.stdout
        # Podman's remote build puts each build secret in the context it sends: no image may hold it.
        import docker

        from tests.integration.layers import copies

        cli, bundle = docker.DockerClient(base_url=podman["DOCKER_HOST"]), hostnet.ca_bundle().read_bytes()
        server = (SCRIPT.parents[1] / "services" / "echo" / "echo_server.py").read_bytes()  # positive control
        assert any(p.endswith("usr/local/bin/echo-server") for p in copies(cli, "lab/echo:local", server))
        assert {s.image: copies(cli, s.image, bundle) for s in SERVICES} == {s.image: [] for s in SERVICES}
    finally:
        down = lab(podman, "down", "--project", project, "--volumes")
    assert down.returncode == 0, down.stderr
    assert harden.tagged(project) == []


def test_the_same_project_on_podman_never_touches_the_system_engines_state(podman):
    """The issue's case: the system engine's project (down, volumes and credentials kept), then the same
    name on a second engine — a failed run there and a `down --volumes` there — must leave its state byte
    for byte. Before state was kept per engine, that `down --volumes` removed these very files."""
    project = name("twin")
    here = projects.Project(project)  # this process's engine: the system one (DOCKER_HOST unset, or its socket)
    assert podman["DOCKER_HOST"] != os.environ.get("DOCKER_HOST")
    here.save()
    from lab import credentials

    credentials.ensure(here.secrets_dir)
    before = {p: p.read_bytes() for p in here.state_dir.rglob("*") if p.is_file()}
    flags = port_flags()
    held = socket.create_server(("127.0.0.1", int(flags[flags.index("--port") + 1].split("=")[1])))
    try:
        failed = lab(podman, "up", "--project", project, *flags, "--no-verify")
        assert failed.returncode != 0 and "in use" in failed.stderr
    finally:
        held.close()
    try:
        up = lab(podman, "up", "--project", project, *flags, "--no-verify")
        assert up.returncode == 0, up.stderr[-2000:]
    finally:
        down = lab(podman, "down", "--project", project, "--volumes")
    assert down.returncode == 0, down.stderr
    assert {p: p.read_bytes() for p in here.state_dir.rglob("*") if p.is_file()} == before
    here.forget_all()


def test_an_engine_that_is_not_running_is_one_line_and_exit_2(tmp_path):
    env = {"DOCKER_HOST": f"unix://{tmp_path}/podman.sock"}
    out = lab(env, "status", "--project", name("gone"))
    assert out.returncode == 2
    assert "no such socket" in out.stderr and "podman system service" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 2  # the error and its hint


def test_on_podman_the_probe_sees_what_is_open_and_harden_closes_direct_routing(podman):
    """The positive control on Podman: the foreign stack (short syntax, every port on 0.0.0.0). netavark
    forwards by NAT and adds no ACCEPT for new connections, so on this host Docker's FORWARD policy (DROP)
    stops a neighbour; a host without Docker accepts. An ACCEPT for the stack's subnets stands in for that
    host: the neighbour must then reach the published ports at the host's address and the containers
    directly, and after `lab harden` the container addresses no longer (the 0.0.0.0 ports stay open: only
    publishing on loopback closes them, as on Docker)."""
    import docker

    from lab.compose_cli import Compose, find_compose
    from tests.integration.test_foreign import FILES, free_ports, ready

    project = name("podman-canary")
    env = free_ports()
    compose = Compose(find_compose()[0], project, [FILES / "compose.yaml"], {**env, **podman}, cwd=FILES)
    accepts: list[list[str]] = []
    try:
        compose.run("up", "--detach", "--pull", "never", timeout=300)
        ready(*(int(env[k]) for k in ("WEB_PORT", "TCP_PORT", "UDP_PORT")))
        cli = docker.DockerClient(base_url=podman["DOCKER_HOST"])
        mine = {"label": f"com.docker.compose.project={project}"}
        subnets = [c["Subnet"] for n in cli.networks.list(filters=mine) for c in n.attrs["IPAM"]["Config"]]
        for subnet in subnets:
            rule = ["FORWARD", "-d", subnet, "-m", "comment", "--comment", f"{project} stand-in", "-j", "ACCEPT"]
            subprocess.run(["iptables", "-w", "5", "-I", *rule], check=True)
            accepts.append(rule)

        def reached() -> set[str]:
            doc = json.loads(lab(podman, "verify", "--project", project, "--json").stdout)
            return {c["target"] for c in doc["checks"] if c["name"] == "neighbour" and c["status"] == "fail"}

        before = reached()
        for key, proto in (("WEB_PORT", "tcp"), ("TCP_PORT", "tcp"), ("UDP_PORT", "udp")):
            assert f"{proto}/{env[key]} via host veth v4" in before, before
        assert any(t.startswith("tcp/8000 direct to web ") for t in before), before
        assert any(t.startswith("udp/65432 direct to udp ") for t in before), before
        hardened = lab(podman, "harden", "--project", project)
        assert hardened.returncode == 0, hardened.stderr
        after = reached()
        assert [t for t in after if " direct to " in t] == []
        assert f"tcp/{env['WEB_PORT']} via host veth v4" in after
    finally:
        left = [r for r in accepts if subprocess.run(["iptables", "-w", "5", "-D", *r]).returncode != 0]
        compose.run("down", "--volumes", "--timeout", "5", timeout=300)
        harden.remove(project)
        assert left == [], f"stand-in ACCEPT rules left behind: {left}"


# -- rootless Docker: the engine and lab both run as an unprivileged user ----------------------------------

USER = "labrootless"  # .ci/engine's
CHECKOUT = "LAB_ROOTLESS_CHECKOUT"  # .ci/test-on's copy of this checkout in the user's home


@pytest.fixture(scope="module")
def rootless(tmp_path_factory):
    """The user's own engine, and a copy of this checkout the user owns: `make up` there is what a person
    on a rootless engine runs (venv, Compose plugin in their home, base bootstrapped without root)."""
    if os.geteuid() != 0:
        pytest.skip("skipped: making the rootless engine's user needs root")
    running, repo = already_running("rootless"), None
    out = subprocess.run(["bash", str(SCRIPT), "start", "rootless"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0 and "could not install" in out.stderr:
        pytest.skip(f"skipped: {out.stderr.strip().splitlines()[-1]}")
    try:
        assert out.returncode == 0, out.stderr
        host = out.stdout.strip().rpartition("DOCKER_HOST=")[2]
        home = Path(pwd.getpwnam(USER).pw_dir)
        if os.environ.get(CHECKOUT):  # `make test ENGINE=rootless`: the user's checkout, set up by their suite
            yield {"DOCKER_HOST": host, "repo": os.environ[CHECKOUT], "home": str(home)}
            return
        repo = home / f"lab-{os.urandom(3).hex()}"
        root = SCRIPT.parents[1]
        shutil.copytree(root, repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".env"))
        subprocess.run(["chown", "-R", f"{USER}:", str(repo)], check=True)
        yield {"DOCKER_HOST": host, "repo": repo, "home": str(home)}
    finally:  # the user, its engine, its images and its subuid range: nothing of it stays on the host
        if repo:
            shutil.rmtree(repo, ignore_errors=True)
        if not running:
            subprocess.run(["bash", str(SCRIPT), "purge", "rootless"], capture_output=True, timeout=300)


def as_user(env: dict, *argv: str) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "REQUESTS_", "CURL_"))}
    return subprocess.run(
        ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in keep.items()), f"HOME={env['home']}",
         "PATH=/usr/sbin:/sbin:/usr/bin:/bin", f"DOCKER_HOST={env['DOCKER_HOST']}", *argv],
        cwd=env["repo"], capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip


def test_rootless_make_up_as_a_user_and_root_proves_nothing_reaches_it(rootless):
    project = name("rootless")
    flags = " ".join(port_flags())
    try:
        up = as_user(rootless, "make", "up", f"PROJECT={project}", f"UP_FLAGS={flags} --progress plain")
        assert up.returncode == 0, (up.stdout + up.stderr)[-3000:]
        said = up.stdout + up.stderr
        assert "verify OK" in said and "skipped" in said  # the namespace probe needs root: skip, never pass
        # root runs the probe against the user's engine: its subnet is not on this host
        out = lab({"DOCKER_HOST": rootless["DOCKER_HOST"]}, "verify", "--project", project, "--json")
        doc = json.loads(out.stdout)
        assert out.returncode == 0, [c for c in doc["checks"] if c["status"] == "fail"]
        direct = [c for c in doc["checks"] if c["name"] == "neighbour" and " direct to " in c["target"]]
        assert len(direct) == 5 and all("no path into it from this host" in c["detail"] for c in direct)
        limits = [c for c in doc["checks"] if c["target"].endswith(" limits")]
        assert len(limits) == 4 and all(c["status"] == "skip" and "not enforced" in c["detail"] for c in limits)
        # The positive control: the api's very address served on this host, and the same probe reaches it.
        api = next(c for c in direct if " direct to api " in c["target"])
        address = api["target"].rsplit(" ", 1)[1]
        link = f"labctl{os.urandom(2).hex()}"
        subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", link + "p"], check=True)
        try:
            subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", link], check=True)
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
            with socket.create_server((address, 5000)):
                again = json.loads(lab({"DOCKER_HOST": rootless["DOCKER_HOST"]}, "verify", "--project", project,
                                       "--json").stdout)  # fmt: skip
            [seen] = [c for c in again["checks"] if c["target"] == api["target"]]
            assert seen["status"] == "fail" and "REACHABLE" in seen["detail"], seen
        finally:
            subprocess.run(["ip", "link", "del", link], check=False)
    finally:
        down = as_user(rootless, "make", "down", f"PROJECT={project}", "DOWN_FLAGS=--volumes")
    assert down.returncode == 0, down.stderr
