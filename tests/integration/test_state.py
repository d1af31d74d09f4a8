"""No run of lab destroys state it did not create (issue 20): a failed `lab up` puts the project's state
back exactly as it found it. The case seen: credentials left by the same project on another engine (no
volumes here) were deleted by a failing run here, locking that engine's data out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab import credentials, engine, stack
from lab import project as projects
from lab.errors import NotReady
from lab.readiness import probe_all
from tests.integration.conftest import new_project, stop
from tests.integration.engine_rules import for_project, without_engine_rules

pytestmark = pytest.mark.integration


def project_objects(name: str) -> int:
    cli = engine.client()
    mine = {"label": f"com.docker.compose.project={name}"}
    return len(cli.containers.list(all=True, filters=mine)) + len(cli.networks.list(filters=mine))


def test_a_failed_up_keeps_credentials_it_did_not_make(lab_stack):
    p = new_project("labtest-keep")
    credentials.ensure(p.secrets_dir)  # as a run of this project against another engine left them
    before = {f.name: f.read_bytes() for f in p.secrets_dir.iterdir()}
    try:
        with pytest.raises(NotReady):
            stack.up(p, timeout=0.01)  # no service answers in 10 ms: the run fails after making things
        assert {f.name: f.read_bytes() for f in p.secrets_dir.iterdir()} == before
        assert project_objects(p.name) == 0  # and what it made is gone
    finally:
        stop(p)


def test_a_failed_first_up_removes_the_state_it_made(lab_stack):
    """The control: the same failure with no state before leaves none behind."""
    p = new_project("labtest-keep")
    try:
        with pytest.raises(NotReady):
            stack.up(p, timeout=0.01)
        assert not p.state_dir.exists()
        assert project_objects(p.name) == 0
    finally:
        stop(p)


def _owned_by(folder, uid: int, mode: int) -> None:
    os.chown(folder, uid, uid)
    for f in folder.iterdir():
        os.chown(f, uid, uid)
        os.chmod(f, mode)


@pytest.mark.parametrize("mode, starts", [(0o644, True), (0o600, False)])
def test_secrets_of_a_non_root_owner_are_read_with_no_capability_beyond_dockers(lab_stack, mode, starts):
    """As when a docker-group user (uid 1000 here) ran lab: the secret files are theirs. With lab's 0644
    files in a 0700 folder the services start with CHOWN/SETUID/SETGID only (no DAC_READ_SEARCH); the
    control, 0600 files of that owner, cannot be read by them and the start fails naming a service."""
    if os.geteuid() != 0:
        pytest.skip("skipped: handing files to another owner needs root")
    p = new_project("labtest-owner")
    credentials.ensure(p.secrets_dir)
    _owned_by(p.secrets_dir, 1000, mode)
    try:
        if starts:
            stack.up(p, timeout=180)
            assert all(r.ok for r in probe_all(p.endpoints(), p.credentials(), 5.0))
        else:
            with pytest.raises(NotReady):
                stack.up(p, timeout=60)
    finally:
        stop(p)


DOCKER_USER = "labdocker"  # made and removed here; nothing else on the host uses the name


@pytest.fixture(scope="module")
def docker_group_user(lab_stack, tmp_path_factory):
    """A person in the docker group, with a copy of this checkout in their home: what they run is `make up`
    (their own venv, state and secrets) against the system engine. lab_stack first: the images exist, so
    their run builds nothing."""
    import grp
    import pwd
    import shutil
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("skipped: making a docker-group user needs root")
    try:
        group = grp.getgrnam("docker")
    except KeyError:
        pytest.skip("skipped: this host has no docker group")
    # The engine under test must be the one the group reaches (Podman's rootful socket is root's alone).
    where = engine.endpoint()
    sock = where.split("://", 1)[1] if where.startswith("unix://") else None
    if sock is None or os.stat(sock).st_gid != group.gr_gid:
        pytest.skip(f"skipped: the engine's socket ({where}) is not the docker group's; no such user reaches it")
    subprocess.run(["userdel", "-r", DOCKER_USER], capture_output=True)  # a killed run's
    subprocess.run(["useradd", "-m", "-G", "docker", "-s", "/bin/sh", DOCKER_USER], check=True)
    try:
        home = Path(pwd.getpwnam(DOCKER_USER).pw_dir)
        repo = home / "lab"
        root = Path(__file__).resolve().parents[2]
        shutil.copytree(root, repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".env"))
        # Which image was built from which inputs (content hashes, the same in their copy): without it their
        # lab rebuilds all four and retags them under every other stack on the engine
        mine = projects.cache_home()
        theirs = home / ".cache" / "lab" / mine.relative_to(projects.user_cache_home())
        theirs.mkdir(parents=True)
        shutil.copy(mine / "images.json", theirs / "images.json")
        subprocess.run(["chown", "-R", f"{DOCKER_USER}:", str(repo), str(home / ".cache")], check=True)
        yield {"home": home, "repo": repo}
    finally:
        subprocess.run(["userdel", "-r", DOCKER_USER], capture_output=True)


def as_docker_user(who: dict, *argv: str):
    import subprocess

    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "REQUESTS_", "CURL_"))}
    return subprocess.run(
        ["runuser", "-u", DOCKER_USER, "--", "env", "-i", *(f"{k}={v}" for k, v in keep.items()),
         f"HOME={who['home']}", "PATH=/usr/sbin:/sbin:/usr/bin:/bin", *argv],
        cwd=who["repo"], capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.host_exclusive(engine_rules=True)  # the engine's raw rules taken away
def test_a_docker_group_user_runs_the_stack_with_no_capability_beyond_dockers(docker_group_user):
    """Their secrets are theirs (0644 files in their own 0700 folder) and the services read them with
    Docker's default capabilities less DAC_READ_SEARCH; root then proves nothing else reaches the stack."""
    import json
    import subprocess
    import sys

    p = new_project("labtest-user")
    flags = " ".join(f"--port {s}={port}" for s, port in p.ports.items())
    try:
        up = as_docker_user(docker_group_user, "make", "up", f"PROJECT={p.name}", f"UP_FLAGS={flags} --progress plain")
        said = up.stdout + up.stderr
        assert up.returncode == 0, said[:6000]
        assert "verify OK" in said and "skipped" in said  # the namespace probe needs root: skip, never pass
        secrets = docker_group_user["home"] / ".local/state/lab" / p.name / "secrets"
        assert secrets.stat().st_uid != 0 and secrets.stat().st_mode & 0o777 == 0o700
        assert {f.stat().st_mode & 0o777 for f in secrets.iterdir()} == {0o644}
        for c in engine.client().containers.list(filters={"label": f"com.docker.compose.project={p.name}"}):
            assert "DAC_READ_SEARCH" not in (c.attrs["HostConfig"].get("CapAdd") or []), c.name
        # Without root their up could not add the project's rule (it said so, naming `sudo lab harden`):
        # root's verify finds the direct route into every container, then proves it closed once hardened.
        assert f"sudo lab harden --project {p.name}" in said

        def verify() -> list[dict]:
            argv = [sys.executable, "-m", "lab", "verify", "--project", p.name, "--json"]
            return json.loads(subprocess.run(argv, capture_output=True, text=True).stdout)["checks"]

        # The engine's own rules taken away (Docker 28 has per-container ones): lab's alone must close it.
        with without_engine_rules(for_project(p.name)):
            direct = [c for c in verify() if " direct to " in c["target"] and c["status"] == "fail"]
            assert len(direct) == 5, direct  # api, echo tcp and udp, postgres, redis
            harden = [sys.executable, "-m", "lab", "harden", "--project", p.name]
            subprocess.run(harden, check=True, capture_output=True)
            checks = verify()
            assert [c for c in checks if c["status"] == "fail"] == []
            assert sum(c["name"] == "neighbour" and c["status"] == "pass" for c in checks) >= 5
    finally:
        down = as_docker_user(docker_group_user, "make", "down", f"PROJECT={p.name}", "DOWN_FLAGS=--volumes")
        subprocess.run([sys.executable, "-m", "lab", "harden", "--undo", "--project", p.name], capture_output=True)
    assert down.returncode == 0, down.stderr
