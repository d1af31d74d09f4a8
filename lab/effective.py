"""lab's files -> the effective configuration (`compose config`), asked once per set of inputs.

Compose evaluates the files in a process of its own (~0.2 s of the ~1.2 s of `lab up` on a running stack,
and again in every `lab verify`). Its answer depends only on its inputs, so it is kept: in memory for the
process, and on disk for lab's own files when every input is known — the files' bytes, the variables they
interpolate, the `.env` Compose reads, the command line and Compose's version. Files that can pull in
others (`include`, `extends`, `env_file`) and a user's own project (their COMPOSE_* settings, --env-file)
are asked every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from pathlib import Path

from lab.compose_cli import Compose, find_compose

_CONFIGS: dict[str, dict] = {}
_LOCK = threading.Lock()
_READS_OTHERS = re.compile(rb"^\s*-?\s*(include|extends|env_file)\s*:", re.M)
_VARIABLE = re.compile(rb"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
KEEP = 16  # configs kept on disk: a few projects and their variants


def effective_config(compose: Compose) -> dict:
    """What compose will really do: every file, override and env applied (`compose config`)."""
    process_key = _process_key(compose)
    with _LOCK:  # verify's static and drift checks ask at once, from two threads: one compose call
        if process_key not in _CONFIGS:
            disk_key = disk_key_of(compose)
            _CONFIGS[process_key] = (_read(disk_key) if disk_key else None) or _ask(compose, disk_key)
        return _CONFIGS[process_key]


def _process_key(compose: Compose) -> str:
    digest = hashlib.sha256(json.dumps([compose.argv(), sorted(compose.environ().items())]).encode())
    for f in compose.files:
        digest.update(Path(f).read_bytes() if Path(f).is_file() else b"\0missing")
    return digest.hexdigest()


def disk_key_of(compose: Compose) -> str | None:
    """A name for every input of this `compose config`, or None where not all of them are known."""
    if compose.users_env or compose.options:
        return None
    texts = []
    for f in compose.files:
        if not Path(f).is_file():
            return None
        texts.append(Path(f).read_bytes())
    joined = b"\0".join(texts)
    if _READS_OTHERS.search(joined):
        return None
    env = compose.environ()
    names = sorted({m.decode() for m in _VARIABLE.findall(joined)})
    folders = {Path(compose.cwd or "."), Path(compose.files[0]).parent} if compose.files else {Path(".")}
    dotenvs = [(folder / ".env").read_bytes() if (folder / ".env").is_file() else b"" for folder in sorted(folders)]
    inputs = [compose.argv(), str(compose.cwd), find_compose()[1], {n: env.get(n) for n in names}]
    digest = hashlib.sha256(json.dumps(inputs).encode() + b"\0" + joined)
    for text in dotenvs:
        digest.update(b"\0" + text)
    return digest.hexdigest()


def _folder() -> Path:
    from lab.project import user_cache_home

    return user_cache_home() / "configs"


def _read(key: str) -> dict | None:
    try:
        return json.loads((_folder() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def _ask(compose: Compose, disk_key: str | None) -> dict:
    text = compose.run("config", "--format", "json", timeout=60).stdout
    config = json.loads(text)
    if disk_key:
        with contextlib.suppress(OSError):
            folder = _folder()
            folder.mkdir(parents=True, exist_ok=True)
            # 0600: the config holds the project's environment, whoever else can read this home
            fd = os.open(folder / f"{disk_key}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text)
            for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
                old.unlink(missing_ok=True)
    return config
