"""A user's Compose project -> its effective configuration, read the way Compose reads it.

The files are found as Compose finds them (COMPOSE_FILE, else compose.yaml … in this folder or a
parent, plus the override file); Compose's own `config` then applies `.env`, interpolation,
`extends`, `include` and merging. Every service of every profile is loaded once, and the profiles
asked for are applied here, so an unknown profile can be named.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.check.locate import Sources, _get
from lab.compose_cli import Compose, find_compose
from lab.errors import ComposeFailed, ProjectNotLoaded

NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
}
_MISSING_ENV_FILE = re.compile(r"env file (\S+) not found")
# Compose's own run is bounded too (lab.children: it dies with lab, its group stopped on a timeout). A
# 57-service project takes well under a second; the bounds are for what slipped past lab.check.guard.
CONFIG_TIMEOUT = 30
CONFIG_MEMORY = 1 << 30


@dataclass
class Loaded:
    files: list[Path]  # the files the project is made of, in Compose's order (later ones win)
    directory: Path
    config: dict[str, Any]
    name: str
    profiles: list[str]  # asked for; empty: every profile
    warnings: list[str] = field(default_factory=list)
    compose_version: str = ""
    env_files: list[Path] = field(default_factory=list)  # `--env-file`s, to load the same project again
    sources: Sources | None = None  # the files' node trees, read (and bounded) before Compose ran


def _dotenv_value(folder: Path, key: str) -> str | None:
    path = folder / ".env"
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if line.strip().startswith(f"{key}="):
            return line.split("=", 1)[1].strip().strip("'\"")
    return None


def discover(start: Path) -> list[Path]:
    """The files `docker compose` would use with no `-f`, searched from `start` upwards."""
    listed = os.environ.get("COMPOSE_FILE") or _dotenv_value(start, "COMPOSE_FILE")
    if listed:
        sep = os.environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [(start / f).resolve() for f in listed.split(sep) if f]
    for folder in (start, *start.parents):
        for name in NAMES:
            if (folder / name).is_file():
                over = next((folder / o for o in OVERRIDES[name] if (folder / o).is_file()), None)
                return [folder / name] + ([over] if over else [])
    raise ProjectNotLoaded(
        f"no compose file in {start} or above (looked for {', '.join(NAMES)})",
        hint="run it in the project's folder, or name the files with -f",
    )


def _services_with_env_files(sources: Sources) -> list[str]:
    names: list[str] = []
    for _path, doc in sources.trees:
        services = _get(doc, "services")
        if isinstance(services, yaml.MappingNode):
            names += [k.value for k, v in services.value if _get(v, "env_file") is not None]
    return sorted(set(names))


def load(
    files: list[Path] | None = None,
    project_directory: Path | None = None,
    profiles: list[str] | None = None,
    env_files: list[Path] | None = None,
    project_name: str | None = None,
) -> Loaded:
    """Raise ProjectNotLoaded (exit 2, one line) for anything Compose cannot read."""
    start = (project_directory or Path.cwd()).resolve()
    paths = [Path(f).resolve() for f in files] if files else discover(start)
    for f in paths:
        if not f.is_file():
            raise ProjectNotLoaded(f"{f}: no such file", hint="give the path of a compose file with -f")
    for f in env_files or []:
        if not Path(f).is_file():
            raise ProjectNotLoaded(f"--env-file {f}: no such file", hint="give the path of an env file")
    options: list[str] = ["--project-name", project_name] if project_name else []
    if project_directory:
        options += ["--project-directory", str(start)]
    for f in env_files or []:
        options += ["--env-file", str(Path(f).resolve())]
    directory = start if project_directory else paths[0].parent
    sources = Sources(paths, directory)  # raises TooLarge for an alias bomb: Compose never sees it
    prefix, version = find_compose()
    compose = Compose(prefix, "", paths, cwd=start if project_directory else paths[0].parent, users_env=True)
    compose.options = [*options, "--profile", "*"]
    warnings: list[str] = []
    try:
        config = _config(compose)
    except ComposeFailed as exc:
        missing = _MISSING_ENV_FILE.search(exc.stderr)
        if not missing:
            raise _not_loaded(exc, paths) from None
        # A service's env_file that is not here (a secret kept out of git): the rules do not read the
        # environment, so judge the rest rather than nothing — and say so.
        config = _without_env_files(compose, paths, sources, exc)
        warnings.append(f"env file {missing.group(1)} not found: checked without the services' env files")
    known = sorted({p for svc in (config.get("services") or {}).values() for p in svc.get("profiles") or []})
    for p in profiles or []:
        if p != "*" and p not in known:
            raise ProjectNotLoaded(
                f"unknown profile {p!r}", hint=f"the project's profiles: {', '.join(known) or 'none'}"
            )
    if profiles and "*" not in profiles:
        config["services"] = {
            n: s
            for n, s in (config.get("services") or {}).items()
            if not s.get("profiles") or set(s["profiles"]) & set(profiles)
        }
    return Loaded(
        paths,
        directory,
        config,
        str(config.get("name") or ""),
        [p for p in profiles or [] if p != "*"],
        warnings,
        version,
        [Path(f).resolve() for f in env_files or []],
        sources,
    )


def _config(compose: Compose) -> dict[str, Any]:
    try:
        out = compose.run("config", "--format", "json", timeout=CONFIG_TIMEOUT, memory=CONFIG_MEMORY).stdout
    except ComposeFailed as exc:
        if exc.returncode == -1:
            raise ProjectNotLoaded(
                f"Compose's `config` did not answer in {CONFIG_TIMEOUT} s (stopped)",
                hint="a file this slow to read is not one to check; look for deeply nested aliases",
            ) from None
        if "cannot allocate memory" in exc.stderr or "out of memory" in exc.stderr:
            raise ProjectNotLoaded(
                f"Compose's `config` needed more than {CONFIG_MEMORY >> 20} MiB (stopped)",
                hint="look for what expands: nested aliases, huge interpolated values",
            ) from None
        raise
    try:
        config = json.loads(out)
    except ValueError as exc:
        raise ComposeFailed(compose.argv("config"), 0, f"compose config printed no JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ComposeFailed(compose.argv("config"), 0, "compose config printed no project")
    return config


def _without_env_files(compose: Compose, paths: list[Path], sources: Sources, first: ComposeFailed) -> dict[str, Any]:
    names = _services_with_env_files(sources)
    if not names:
        raise _not_loaded(first, paths)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="lab-check-") as reset:
        reset.write("services:\n" + "".join(f"  {json.dumps(n)}:\n    env_file: !reset []\n" for n in names))
        reset.flush()
        again = Compose(compose.prefix, "", [*paths, Path(reset.name)], cwd=compose.cwd, users_env=True)
        again.options = compose.options
        try:
            return _config(again)
        except ComposeFailed as exc:
            raise _not_loaded(exc, paths) from None


def _not_loaded(exc: ComposeFailed, paths: list[Path]) -> ProjectNotLoaded:
    last = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else "no output"
    if "required variable" in last:  # `${VAR:?…}`: the project says it cannot be read without it
        return ProjectNotLoaded(
            f"the compose files do not load: {last}", hint="set it in the shell or .env, or pass --env-file F"
        )
    return ProjectNotLoaded(f"the compose files do not load: {last}", [str(p) for p in paths])
