"""Per-project credentials: random on first `up`, kept outside git in a folder only its owner can enter.

Containers get them as compose secrets (files); they never enter compose.yaml, an
image layer or a container's environment. The folder is 0700 and each file 0644: on the host nobody
but the owner reaches a file (the folder stops them), while a container, which sees only the file
bind-mounted on its own, reads it whoever ran lab — root, or a user in the docker group — without a
capability beyond Docker's defaults (DAC_READ_SEARCH was needed for 0600 files of a non-root owner).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from lab.catalogue import postgres

NAMES = ("redis_password", "postgres_password")
SECRET_MODE = 0o644  # inside a 0700 folder: see above


@dataclass(frozen=True)
class Credentials:
    redis_password: str
    postgres_password: str
    postgres_user: str = postgres.USER
    postgres_db: str = postgres.DATABASE


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    os.chmod(path, SECRET_MODE)  # whatever the umask took away


MIN_LENGTH = 32  # what token_urlsafe(24) gives: anything shorter was cut


def damaged(folder: Path) -> list[str]:
    """Credential files that exist but are empty or cut short (a full disk, a stray `>`), in words."""
    found = []
    for name in NAMES:
        path = folder / name
        if path.exists():
            n = len(path.read_text().strip())
            if n < MIN_LENGTH:
                found.append(
                    f"{path} is {'empty' if n == 0 else f'cut short ({n} characters, lab writes {MIN_LENGTH})'}"
                )
    return found


def ensure(folder: Path) -> Credentials:
    """Read the project's credentials, generating any that are missing."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for name in NAMES:
        path = folder / name
        if not path.exists() or not path.read_text().strip():
            path.unlink(missing_ok=True)
            _write_secret(path, secrets.token_urlsafe(24))
        elif path.stat().st_mode & 0o777 != SECRET_MODE and path.stat().st_uid == os.geteuid():
            os.chmod(path, SECRET_MODE)  # made 0600 by an older lab: readable by the containers again
    return load(folder)


def load(folder: Path) -> Credentials | None:
    try:
        values = {name: (folder / name).read_text().strip() for name in NAMES}
    except FileNotFoundError:
        return None
    return Credentials(**values)
