"""One run at a time per project: a second holder waits, says whom it waits for, and refuses after its bound."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from lab import project as projects
from lab import runlock
from lab.errors import LabError, ProjectBusy
from tests.waiting import wait_for


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(runlock, "folder", lambda: tmp_path)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return tmp_path


HOLD = """
import sys, time
from lab import runlock
runlock.folder = lambda: __import__("pathlib").Path(sys.argv[1])
with runlock.held(sys.argv[2], "up"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _holder(lock_dir, project: str = "p") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir), project], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline() == "held\n"
    return proc


def test_a_second_run_waits_naming_the_first_and_goes_on_when_it_ends(lock_dir):
    first = _holder(lock_dir)
    said: list[str] = []
    got = threading.Event()

    def second():
        with runlock.held("p", "up", say=said.append):
            got.set()

    t = threading.Thread(target=second)
    t.start()
    try:
        wait_for(lambda: said, 10, "the second saying it waits", interval=0.01)
        assert not got.is_set()  # it said it waits, and it does
        assert said == [f"waiting for lab up (pid {first.pid}) to finish with project p ({runlock.path('p')})"]
    finally:
        first.stdin.write("\n")
        first.stdin.flush()
        first.wait(timeout=30)
    t.join(timeout=30)
    assert got.is_set()


def test_a_wait_past_its_bound_refuses_in_one_line_naming_the_holder(lock_dir):
    first = _holder(lock_dir)
    now = iter(range(0, 10_000, 10))
    try:
        busy = rf"project p is busy: lab up \(pid {first.pid}\) has held it for"
        clock, sleep = (lambda: float(next(now))), (lambda _s: None)
        with pytest.raises(ProjectBusy, match=busy), runlock.held("p", "down", wait=30, clock=clock, sleep=sleep):
            pass
    finally:
        first.stdin.write("\n")
        first.stdin.flush()
        first.wait(timeout=30)


def test_held_again_in_the_same_process_does_not_wait_for_itself(lock_dir):
    with runlock.held("p", "up"), runlock.held("p", "up", wait=0):
        assert runlock.path("p").read_text() == f"lab up (pid {os.getpid()})\n"
    assert runlock.path("p").read_text() == ""  # released: no stale holder for the next waiter


def test_projects_and_engines_have_their_own_locks(lock_dir, monkeypatch):
    system = runlock.path("p")
    assert system.name == "lab-system-p.lock" and runlock.path("q") != system
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
    assert runlock.path("p") != system


def test_one_image_build_at_a_time_per_engine_and_its_wait_says_so(lock_dir):
    """Two `lab up` of two projects, both finding lab's images stale: the second waits for the first's build
    (then finds the images built) and says what it waits for; no project's name can take this lock."""
    first = _holder(lock_dir, runlock.IMAGES)
    said: list[str] = []
    now = iter(range(0, 10_000, 10))
    try:
        clock, sleep = (lambda: float(next(now))), (lambda _s: None)
        busy = rf"^lab's image build is busy: lab up \(pid {first.pid}\) has held it for"
        held = runlock.held(runlock.IMAGES, "up", 30, said.append, clock, sleep, what="lab's image build")
        with pytest.raises(ProjectBusy, match=busy), held:
            pass
        where = runlock.path(".images")
        assert said == [f"waiting for lab up (pid {first.pid}) to finish with lab's image build ({where})"]
        with runlock.held("p", "up", wait=0):  # a project's own lock is another
            pass
    finally:
        first.stdin.write("\n")
        first.stdin.flush()
        first.wait(timeout=30)
    with pytest.raises(LabError):
        projects.check_name(runlock.IMAGES)
