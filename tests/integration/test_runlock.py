"""Two `lab up` of one project started together (two terminals, `make up` twice): the second waits for the
first, naming its pid, then finds the stack up and starts nothing; neither refuses the other's ports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lab import runlock
from tests.integration.conftest import new_project, stop
from tests.integration.names import container_names
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_two_concurrent_lab_up_of_one_project_run_one_after_the_other(engine_ok):
    p = new_project("labtest-lock")
    argv = [sys.executable, "-m", "lab", "up", "--project", p.name, "--no-verify", "--progress", "plain"]
    argv += [f"--port={s}={port}" for s, port in p.ports.items()]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        lock = runlock.path(p.name)

        def held() -> bool:
            assert first.poll() is None, "the first run ended before it held the lock"
            return f"(pid {first.pid})" in (lock.read_text() if lock.exists() else "")

        wait_for(held, 60, "the first run holding the lock")
        second = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out1, err1 = first.communicate(timeout=600)
        out2, err2 = second.communicate(timeout=600)
        assert first.returncode == 0, out1 + err1
        assert second.returncode == 0, out2 + err2
        assert f"waiting for lab up (pid {first.pid}) to finish with project {p.name}" in err2
        assert "nothing to start" in err2 and "already in use" not in err2
        assert container_names(p.name) == sorted(f"{p.name}-{s}-1" for s in p.ports)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=120)
        stop(p)
    assert container_names(p.name) == []
