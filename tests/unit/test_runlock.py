"""One run at a time per project: a second holder waits, says whom it waits for, and refuses after its bound."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from lab import runlock
from lab.errors import ProjectBusy
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
with runlock.held("p", "up"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _holder(lock_dir) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
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
