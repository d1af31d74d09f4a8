"""The backbone, for real: every service answers over loopback with the real clients."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess

import psycopg
import pytest
import redis
import requests

from lab import hostnet, ports, stack
from lab.readiness import probe_all
from lab.verify.checks import Status
from tests.integration.names import container_names

pytestmark = pytest.mark.integration


def test_every_service_answers_on_every_loopback_address(lab_stack):
    p = lab_stack.project
    results = probe_all(p.endpoints(), p.credentials())
    assert [(str(r.endpoint), r.ok) for r in results if not r.ok] == []
    assert len(results) == 5 * len(p.hosts)


def test_real_clients_with_lab_env(lab_stack):
    env = lab_stack.env
    r = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=5)
    assert r.set("lab:test", "v") and r.get("lab:test") == b"v"
    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == ("lab", "lab")
    health = requests.get(env["API_URL"] + "/health", timeout=5)
    assert health.status_code == 200
    assert {k: v["ok"] for k, v in health.json()["checks"].items()} == {"redis": True, "postgres": True, "echo": True}
    host, port = env["ECHO_TCP"].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"hello lab")
        assert s.recv(100) == b"hello lab"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        u.sendto(b"udp hello", (host, int(port)))
        assert u.recv(100) == b"udp hello"


def test_auth_is_required(lab_stack):
    p = lab_stack.project
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=p.ports["redis"], password="wrong", socket_timeout=5).ping()
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="NOAUTH|authenticated"):
        redis.Redis(port=p.ports["redis"], socket_timeout=5).get("x")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host="127.0.0.1", port=p.ports["postgres"], user="lab", password="wrong", dbname="lab", connect_timeout=5
        )


def test_no_listener_of_the_stack_is_on_a_wildcard(lab_stack):
    p = lab_stack.project
    held = ports.holders(set(p.ports.values()))
    assert {(h.address, h.protocol) for h in held if h.port == p.ports["echo"]} >= {
        ("127.0.0.1", "tcp"),
        ("127.0.0.1", "udp"),
    }
    assert [h for h in held if not h.is_loopback] == []


def test_plain_docker_compose_ps_shows_the_stack(lab_stack):
    p = lab_stack.project
    compose = p.compose()
    out = subprocess.run(
        compose.argv("ps", "--format", "json"),
        env=compose.environ(),
        cwd=p.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    services = {json.loads(line)["Service"] for line in out.splitlines() if line.strip()}
    assert services == {"echo", "api", "redis", "postgres"}


def test_credentials_are_not_in_inspect_or_images(lab_stack):
    p = lab_stack.project
    creds = p.credentials()
    for name in container_names(p.name):
        inspect = subprocess.run(["docker", "inspect", name], capture_output=True, text=True, check=True).stdout
        assert creds.redis_password not in inspect and creds.postgres_password not in inspect
        top = subprocess.run(["docker", "top", name, "-eo", "user,args"], capture_output=True, text=True).stdout
        assert creds.redis_password not in top and creds.postgres_password not in top
        users = {line.split()[0] for line in top.splitlines()[1:]}
        assert "root" not in users, f"{name} runs as root: {top}"
    assert (p.secrets_dir / "redis_password").stat().st_mode & 0o777 == 0o644  # the file: see credentials.py
    assert p.secrets_dir.stat().st_mode & 0o777 == 0o700  # the folder that keeps everyone else out


def test_status_reports_every_service_answering(lab_stack):
    rows = stack.status(lab_stack.project)
    assert {(r.service, r.answers) for r in rows} == {(s, True) for s in ("echo", "api", "redis", "postgres")}


def test_the_host_ca_bundle_is_in_no_image(lab_stack):
    from lab import engine
    from lab.composefile import ROOT
    from tests.integration.layers import copies

    bundle = hostnet.ca_bundle()
    # Positive control: the scan finds a file the build did copy (the echo server, byte for byte), so an
    # empty answer below means "not there", not "not looked at".
    server = (ROOT / "services" / "echo" / "echo_server.py").read_bytes()
    assert any(p.endswith("usr/local/bin/echo-server") for p in copies(engine.client(), "lab/echo:local", server))
    for image in ("lab/api:local", "lab/echo:local", "lab/redis:local", "lab/postgres:local"):
        history = subprocess.run(
            ["docker", "history", "--no-trunc", image], capture_output=True, text=True, check=True
        ).stdout
        assert str(bundle) not in history
        # Every file of every layer, by its bytes: none may be the bundle.
        assert copies(engine.client(), image, bundle.read_bytes()) == [], f"{image} contains the host CA bundle"


def test_engine_down_is_a_one_line_error(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nope.sock"}
    out = subprocess.run(
        [os.sys.executable, "-m", "lab", "status", "--project", "labtest-nothing"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("lab: error: Docker engine not reachable") and "Traceback" not in out.stderr


@pytest.mark.parametrize("restart", ["no", "unless-stopped"])
def test_a_service_that_dies_fails_up_fast_with_its_logs_and_nothing_left(engine_ok, tmp_path, restart):
    """Once, or in a crash loop under the catalogue's restart policy (Podman shows that one "running"
    between restarts: only its restart count says so). Seen, not waited out: a wait that ran out would say
    "no answer … within 120 s"."""
    from lab.errors import NotReady
    from tests.integration.conftest import new_project, stop

    p = new_project("labtest-dies")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f'services:\n  postgres:\n    restart: "{restart}"\n'
        '    entrypoint: ["sh", "-c", "echo broken on purpose >&2; exit 7"]\n'
    )
    p.overrides = [broken]
    try:
        with pytest.raises(NotReady, match="postgres not ready: its container exited") as info:
            stack.up(p, timeout=120)
        assert "broken on purpose" in info.value.details
        assert container_names(p.name) == []
    finally:
        stop(p)


def test_a_host_without_ipv6_gets_ipv4_bindings_only(engine_ok, hardened):
    """The per-host choice: without IPv6 loopback, compose.ipv6.yaml is left out and all still works."""
    from lab import verify
    from tests.integration.conftest import new_project, start, stop

    p = new_project("labtest-v4only")
    p.ipv6 = False
    try:
        start(p)
        assert [f.name for f in p.files] == ["compose.yaml"]
        assert {h.address for h in ports.holders(set(p.ports.values()))} == {"127.0.0.1"}
        report = verify.run(p)
        assert report.ok, [c for c in report.checks if c.status != Status.PASS]
    finally:
        stop(p)


def test_probes_ignore_an_http_proxy_in_the_environment(lab_stack, monkeypatch):
    """Users behind proxies export http_proxy; loopback probes must not go through it."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    p = lab_stack.project
    assert [r.detail for r in probe_all(p.endpoints("api"), p.credentials()) if not r.ok] == []


def test_redis_url_works_in_redis_cli_and_redis_py(lab_stack):
    """REDIS_URL names the `default` user: Debian's redis-cli 7.0 fails AUTH on redis://:pw@ (empty user)."""
    url = lab_stack.env["REDIS_URL"]
    assert url.startswith("redis://default:")
    assert redis.Redis.from_url(url).ping() is True
    if not shutil.which("redis-cli"):
        pytest.skip("skipped: redis-cli is not installed (apt-get install redis-tools)")
    out = subprocess.run(["redis-cli", "-u", url, "ping"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "PONG", out.stdout + out.stderr


@pytest.mark.host_exclusive  # lab's image tags changed under every stack
def test_a_rebuild_under_a_running_stack_leaves_no_dangling_image(lab_stack, tmp_path):
    """The replaced image goes once compose has recreated the container that ran it (it used to be asked
    to go right after the build, while still in use, and stayed behind). A copy of the checkout whose echo
    changes twice: the image of the first change, run only by this project, must be gone after the second."""
    from lab import engine, images, project
    from lab.composefile import ROOT
    from tests.integration.conftest import new_project, stop

    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "services", root / "services", ignore=shutil.ignore_patterns("__pycache__"))
    p = new_project("labtest-rebuild")
    p.root = root
    server = root / "services" / "echo" / "echo_server.py"
    original = server.read_text()

    def echo_image() -> str:
        return engine.image_id("lab/echo:local")

    # The image every other stack runs (the session's, and a process beside this one's) and lab's record of
    # it: put back as they were after, not rebuilt (a rebuild is another image, under stacks that ran this one)
    ours = echo_image()
    record = project.cache_home() / "images.json"
    recorded = record.read_text()
    try:
        server.write_text(original + "\n# changed once\n")
        stack.up(p, timeout=180)
        first = echo_image()
        server.write_text(original + "\n# changed twice\n")
        stack.up(p, timeout=180)
        assert echo_image() != first  # the positive control: it was rebuilt, and replaced that image
        assert not engine.image_id(first), "the replaced image is still on the engine"
    finally:
        stop(p)
        second = echo_image()
        if engine.image_id(ours):  # in use by the session's stack, so never dropped
            engine.client().images.get(ours).tag("lab/echo", "local")
            record.write_text(recorded)
            images.drop([second])
        else:
            images.drop(images.ensure_images(lab_stack.project.compose(), ROOT))  # the tag back to ours
