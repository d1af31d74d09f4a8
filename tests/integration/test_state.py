"""No run of lab destroys state it did not create (issue 20): a failed `lab up` puts the project's state
back exactly as it found it. The case seen: credentials left by the same project on another engine (no
volumes here) were deleted by a failing run here, locking that engine's data out."""

from __future__ import annotations

import os

import pytest

from lab import credentials, engine, stack
from lab.errors import NotReady
from lab.readiness import probe_all
from tests.integration.conftest import new_project, stop

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
