"""lab.children with real processes: what a child starts goes with it, memory is capped, lab's death
takes the child along."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from lab import children
from tests.waiting import wait_for


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_timeout_stops_the_child_and_what_it_started(tmp_path):
    pidfile = tmp_path / "grandchild"
    with pytest.raises(subprocess.TimeoutExpired):
        children.bounded(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], timeout=1)
    grandchild = int(pidfile.read_text())
    wait_for(lambda: not alive(grandchild), 10, f"the grandchild (pid {grandchild}) gone")


def test_memory_is_capped():
    grab = "b = bytearray(128 * 1024 * 1024); print('got it')"
    capped = children.bounded([sys.executable, "-c", grab], timeout=60, memory=64 << 20)
    assert capped.returncode == 1 and "MemoryError" in capped.stderr
    # The control: the same child without the cap gets its memory.
    assert children.bounded([sys.executable, "-c", grab], timeout=60).stdout == "got it\n"


def test_output_and_code_come_back_and_stdin_is_closed():
    done = children.bounded(["sh", "-c", "read x; echo out; echo err >&2; exit 3"], timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
