import socket
import threading

import pytest

from lab import engine
from lab.errors import EngineUnavailable


@pytest.mark.parametrize(
    "info, versions, name, cgroups",
    [
        ({"CgroupDriver": "cgroupfs", "SecurityOptions": ["name=seccomp,profile=default"]}, {}, "docker", True),
        ({"CgroupDriver": "none", "SecurityOptions": ["name=seccomp", "name=rootless"]}, {}, "docker rootless", False),
        ({"CgroupDriver": "systemd"}, {"Components": [{"Name": "Podman Engine"}]}, "podman", True),
        (
            {"CgroupDriver": "cgroupfs", "SecurityOptions": ["name=rootless"]},
            {"Components": [{"Name": "Podman Engine"}]},
            "podman rootless",
            True,
        ),
        # Podman 4.3's own answer (read off `podman system service` here): a plain Rootless flag
        (
            {"CgroupDriver": "cgroupfs", "Rootless": True},
            {"Components": [{"Name": "Podman Engine"}]},
            "podman rootless",
            True,
        ),
    ],
)
def test_the_engine_is_known_by_its_own_answers(info, versions, name, cgroups):
    from lab.engine import detect

    found = detect(info, versions)
    assert (found.name, found.cgroups) == (name, cgroups)
    assert found.meaning()


# -- which engine, and its state -------------------------------------------------------------


@pytest.fixture
def fresh_client():
    engine.client.cache_clear()
    yield
    engine.client.cache_clear()


def test_the_system_engine_keeps_the_old_state_folder_and_another_gets_its_own(monkeypatch, tmp_path):
    from lab import project

    monkeypatch.setenv("LAB_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", engine.DEFAULT_ENDPOINT)
    assert engine.state_key() is None and project.state_home() == tmp_path
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/lab-podman/podman.sock")
    podman = project.state_home()
    monkeypatch.setenv("DOCKER_HOST", "unix:///home/u/.run/docker.sock")
    rootless = project.state_home()
    assert len({tmp_path, podman, rootless}) == 3
    assert podman.parent == rootless.parent == tmp_path / project.ENGINES
    assert "podman" in podman.name  # a person can tell which folder is which engine's
    with pytest.raises(Exception, match="invalid project name"):
        project.check_name(project.ENGINES)  # no project's state can land among the engines'


def _case(monkeypatch, tmp_path, what):
    path = tmp_path / what
    if what == "file":
        path.write_text("not an engine")
    elif what == "silent.sock":  # accepts, answers nothing an engine would
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
        listener.listen()
        threading.Thread(target=lambda: [listener.accept()[0].close() for _ in range(20)], daemon=True).start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    with pytest.raises(EngineUnavailable) as caught:
        engine.client()
    return str(caught.value), caught.value.hint


@pytest.mark.parametrize(
    "what, said, hint",
    [
        ("file", "is not a socket", "DOCKER_HOST"),
        ("silent.sock", "not a Docker engine API", "point DOCKER_HOST"),
        ("podman/podman.sock", "no such socket", "podman system service --time=0 unix://"),
        ("run/docker.sock", "no such socket", "dockerd-rootless.sh"),
    ],
)
def test_an_endpoint_that_is_no_engine_says_what_to_do_in_one_line(
    monkeypatch, tmp_path, fresh_client, what, said, hint
):
    (tmp_path / what).parent.mkdir(parents=True, exist_ok=True)
    message, given = _case(monkeypatch, tmp_path, what)
    assert said in message and hint in given
    assert "\n" not in message + given


def test_the_system_engine_spelled_another_way_is_still_the_system_engine(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/docker.sock")  # /var/run is a link to /run
    assert engine.state_key() is None
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert engine.state_key() is None
