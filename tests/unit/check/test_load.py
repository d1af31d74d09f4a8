"""Compose's own run is bounded and never outlives lab (issue 31: an orphaned `compose config` was seen
at 100 % CPU and 11 GB after `lab check` was stopped).

A Compose that does not answer, for real: the project's `.env` is a FIFO nobody writes, and Compose
blocks opening it (as it would on any stuck file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest

from lab.check import load
from lab.errors import ProjectNotLoaded
from tests.waiting import wait_for


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # dead, its reaper not yet called
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def stuck(project):
    root = project({"compose.yaml": "services:\n  web:\n    image: nginx\n"})
    os.mkfifo(root / ".env")
    return root


def start_check(root) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env["PYTHONFAULTHANDLER"] = "1"  # a lab that does not stop prints where each thread is on SIGABRT (below)
    # SIGINT as a terminal's Ctrl-C finds it: a run started in the background of a script (`make test &`)
    # inherits it ignored, and Python then keeps it ignored (seen: lab waited out Compose's 30 s bound)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "check"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )

    def compose_child():
        try:
            kids = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return None
        return next((k.pid for k in kids if "compose" in " ".join(k.cmdline())), None)

    return proc, wait_for(compose_child, 60, "lab check starting compose")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_stopped_lab_check_leaves_no_compose_behind(stuck, how):
    proc, child = start_check(stuck)
    try:
        proc.send_signal(how)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:  # say where lab was
            proc.send_signal(signal.SIGABRT)
            proc.wait(30)
            pytest.fail(f"lab check still running 30 s after {how.name}; where it was:\n{proc.stderr.read().decode()}")
        wait_for(lambda: gone(child), 15, f"compose config (pid {child}) gone after lab got {how.name}")
    finally:  # a failing run must not leave its orphan on the machine either
        if not gone(child):
            os.kill(child, signal.SIGKILL)
    if how != signal.SIGKILL:  # cleaned up like Ctrl-C: one line, 130
        assert code == 130 and proc.stderr.read().decode().strip() == "lab: interrupted"


def test_a_compose_that_does_not_answer_is_stopped_and_said_in_one_line(stuck, monkeypatch):
    monkeypatch.setattr(load, "CONFIG_TIMEOUT", 1)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(ProjectNotLoaded, match=r"^Compose's `config` did not answer in 1 s \(stopped\)$"):
        load.load(project_directory=stuck)
    assert {p.pid for p in psutil.Process().children(recursive=True)} - before == set()
