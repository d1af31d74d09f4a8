"""One run at a time per project: `lab up` and `lab down` hold a lock that every user of the engine sees.

Two `lab up` of one project started 0.3 s apart used to race: the second saw the first's containers
publishing "its" ports and refused them. Now the second waits, saying which run (pid) it waits for, and
goes on once that run ends — or refuses in one line naming it after `WAIT` seconds.

Where: `/run/lock/lab-<engine>-<project>.lock`. A project name is one stack per engine (lab/project.py),
so the lock is keyed by the engine (lab/engine.py's `state_key`, the same for root and the user who
point at one engine), not by the user: root running `lab up` on a rootless user's engine and that user
must see the same file, and the per-user state folders are exactly what they do not share. /run/lock is
the host's world-writable, sticky, boot-cleared folder for locks (FHS): a lock never outlives a reboot,
and an flock(2) is released by the kernel when its holder dies, so a killed run leaves nothing held.
Where /run/lock is absent or not writable, the system's temporary folder serves.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lab.errors import ProjectBusy

# lab's images on an engine, built by whichever `lab up` finds them stale: one build at a time, and the next
# run finds them built. Two builds of api at once on Podman 4.3 (the suite in two processes) saw one killed
# mid-step; on Docker, BuildKit copes, but both runs would still write the images' record. A project's name
# starts with a letter or a digit (Compose's rule), so no project takes this lock's.
IMAGES = ".images"
_HELD: dict[Path, int] = {}  # held by this process: a nested `held` (lab up's CLI, then its pipeline) goes on
WAIT = 900.0  # s: longer than a cold `lab up` builds here; a wait says so at once, so it is never silent
POLL = 0.1


def folder() -> Path:
    run = Path("/run/lock")
    return run if run.is_dir() and os.access(run, os.W_OK | os.X_OK) else Path(tempfile.gettempdir())


def path(project: str) -> Path:
    from lab import engine

    key = re.sub(r"[^A-Za-z0-9_.-]", "-", engine.state_key() or "system")
    return folder() / f"lab-{key}-{project}.lock"


def _open(where: Path) -> int:
    """Open the lock file, made readable and writable by every user. An existing file is opened without
    O_CREAT: with fs.protected_regular, a sticky folder refuses O_CREAT on another user's file."""
    try:
        return os.open(where, os.O_RDWR)
    except FileNotFoundError:
        pass
    try:
        fd = os.open(where, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:  # made by another run in between
        return os.open(where, os.O_RDWR)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # the umask took some bits: every user of the engine must open it
    return fd


def holder(fd: int) -> str:
    """Who holds it, as its holder wrote it ("lab up (pid 1234)")."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 200).decode(errors="replace").strip()
    return text or "another lab run"


@contextlib.contextmanager
def held(
    project: str,
    command: str,
    wait: float = WAIT,
    say: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "",
) -> Iterator[Path]:
    """Hold `project`'s lock for the block. Busy: say whom this run waits for, then wait up to `wait`
    seconds for it (ProjectBusy after that). Held already by this process: held on, not taken twice (an
    flock taken again through a second descriptor would wait for itself). `what` names the lock in its
    messages ("project <name>" unless said: lab's image build, runlock.IMAGES)."""
    where = path(project)
    what = what or f"project {project}"
    if _HELD.get(where):
        _HELD[where] += 1
        try:
            yield where
        finally:
            _HELD[where] -= 1
        return
    fd = _open(where)
    try:
        start, said = clock(), False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
            if not said and say is not None:
                say(f"waiting for {holder(fd)} to finish with {what} ({where})")
                said = True
            if clock() - start > wait:
                raise ProjectBusy(project, holder(fd), clock() - start, what)
            sleep(POLL)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"lab {command} (pid {os.getpid()})\n".encode())
        _HELD[where] = 1
        try:
            yield where
        finally:
            del _HELD[where]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # the next waiter reads no stale holder
    finally:
        os.close(fd)  # releases the flock
