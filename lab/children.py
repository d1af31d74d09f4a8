"""Child processes that cannot outlive lab or run away with the machine.

Found with a YAML alias bomb (issue 31): `lab check` ran `compose config`, was killed, and the child
lived on at 100 % CPU and 11 GB. Every child started here:
- gets a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`): a lab killed with SIGKILL,
  which runs no cleanup, still takes it along;
- runs in its own process group (`bounded`), so a timeout or an interrupt stops the child *and* what it
  started (`docker compose` runs the plugin as a grandchild) — Ctrl-C is passed on as SIGINT first, as
  the terminal would have, then SIGKILL after a grace period;
- may have its memory capped (RLIMIT_DATA: Go's heap counts against it; RLIMIT_AS would stop the Go
  runtime from starting at all below ~1 GB, measured with Compose 2.40).

The parent-death signal fires when the *thread* that started the child exits: every call here waits
for its child, so that thread is blocked until the child is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
GRACE = 5.0  # seconds an interrupted child has to stop on SIGINT before it is killed


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent (a preexec function should only call, not load)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def preexec(memory: int | None = None) -> Callable[[], None]:
    """What the child runs between fork and exec: die with this process, cap its data segment."""
    import resource  # here, not in the child: between fork and exec only calls, no imports

    prctl, parent = _prctl(), os.getpid()

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # lab died before the signal was armed
                os._exit(1)
        if memory:
            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))

    return setup


def stop(proc: subprocess.Popen, interrupted: bool) -> None:
    """Stop a child started by `bounded` and everything in its group; wait for it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if interrupted and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(GRACE)
        os.killpg(proc.pid, signal.SIGKILL)  # the group: a leader that is gone may have left children
    proc.wait()


def bounded(
    argv: list[str],
    env: dict[str, str] | None = None,
    cwd: os.PathLike | str | None = None,
    timeout: float | None = None,
    memory: int | None = None,
) -> subprocess.CompletedProcess:
    """Run argv to completion, output captured, stdin closed (nothing can wait on a prompt the user
    never sees). Raises subprocess.TimeoutExpired after `timeout`, the child group killed."""
    with subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
        preexec_fn=preexec(memory),
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except KeyboardInterrupt:
            stop(proc, interrupted=True)
            raise
        except BaseException:
            stop(proc, interrupted=False)
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
