"""A project: one isolated stack (name, host ports, loopback families, credentials, files).

Its state lives per user, not per checkout, in `~/.local/state/lab/<name>/` (XDG_STATE_HOME,
or LAB_STATE_HOME): a project name is one stack on the engine — its containers and volumes
too — so its credentials and port choice must be one as well. Another engine (rootless, Podman,
a context) keeps its own under `engines.d/<engine>/<name>/`: same name, another stack. `state.json` holds the choices
so that every command, and plain `docker compose` in the repo (through `.env` for the default
project), agree until `down`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lab import compose_model, credentials, home, hostnet
from lab.addr import LOOPBACK_V4, LOOPBACK_V6
from lab.catalogue import SERVICES, Endpoint, get
from lab.compose_cli import Compose, find_compose
from lab.composefile import IPV6, MAIN
from lab.credentials import Credentials
from lab.errors import UsageError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ENGINES = "engines.d"  # not a valid project name, so no project's state can collide with it
DOTENV_HEADER = "# Written by lab for the default project; removed by `lab down`. Do not edit.\n"


def _per_engine(root: Path) -> Path:
    from lab import engine  # the docker SDK (~0.15 s): not for what is the same on every engine

    key = engine.state_key()
    return root / ENGINES / key if key else root


def state_home() -> Path:
    return _per_engine(home.state_base())


def user_cache_home() -> Path:
    """What can be rebuilt and is the same on every engine (which Compose binary is which version)."""
    explicit = os.environ.get("LAB_CACHE_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "lab"


def cache_home() -> Path:
    """What can be rebuilt (which image was built from which inputs): per user and engine, not per project."""
    return _per_engine(user_cache_home())


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid project name {name!r}",
            "use lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name


def default_ports() -> dict[str, int]:
    return {s.name: s.default_host_port for s in SERVICES}


@dataclass
class Project:
    name: str = compose_model.PROJECT
    root: Path = field(default_factory=home.reference_root)  # the checkout, or stack.d/ beside the state
    ports: dict[str, int] = field(default_factory=default_ports)
    ipv6: bool = False
    overrides: list[Path] = field(default_factory=list)  # extra compose files (`lab up --override`)
    state_root: Path = field(default_factory=state_home)

    @property
    def state_dir(self) -> Path:
        return self.state_root / self.name

    @property
    def secrets_dir(self) -> Path:
        return self.state_dir / "secrets"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def is_default(self) -> bool:
        return self.name == compose_model.PROJECT

    @property
    def owns_dotenv(self) -> bool:
        """The repo's .env is for plain `docker compose` on the system engine: another engine's run of the
        default project must neither write it nor take it away."""
        from lab import engine

        return self.is_default and engine.state_key() is None

    @property
    def hosts(self) -> tuple[str, ...]:
        return (LOOPBACK_V4, LOOPBACK_V6) if self.ipv6 else (LOOPBACK_V4,)

    @property
    def files(self) -> list[Path]:
        """compose.yaml, the ::1 ports where the host has IPv6, then the user's overrides.

        compose.override.yaml is honoured as compose itself would; verify audits the result.
        """
        files = [self.root / MAIN] + ([self.root / IPV6] if self.ipv6 else [])
        conventional = self.root / "compose.override.yaml"
        if conventional.exists():
            files.append(conventional)
        return files + [p for p in self.overrides if p not in files]

    def started_these(self, files: list[str]) -> bool:
        """Were containers labelled with these compose files started from this project's files? Another
        project that only shares the name (the user's own stack) is not lab's to take down or hold to the
        catalogue. No files known: as before, lab's."""
        mine = {f.resolve() for f in self.files} | {(self.root / MAIN).resolve()}
        return not files or any(Path(f).resolve() in mine for f in files)

    def compose(self) -> Compose:
        """Compose for this project: its files, its ports and secrets folder in the environment."""
        prefix, _version = find_compose()
        return Compose(prefix, self.name, self.files, self.compose_env(), cwd=self.root)

    def compose_env(self) -> dict[str, str]:
        env = {get(svc).port_env: str(port) for svc, port in self.ports.items()}
        env["LAB_SECRETS_DIR"] = str(self.secrets_dir)
        ca = hostnet.ca_bundle()
        if ca:
            env["LAB_CA_BUNDLE"] = str(ca)
        return env

    def endpoints(self, service: str | None = None, hosts: tuple[str, ...] | None = None) -> list[Endpoint]:
        """Every published socket of the stack (or of one service), per loopback host and protocol."""
        out = []
        for spec in SERVICES:
            if service and spec.name != service:
                continue
            for host in hosts or self.hosts:
                for proto in spec.protocols:
                    out.append(Endpoint(spec.name, host, self.ports[spec.name], proto))
        return out

    def credentials(self) -> Credentials | None:
        return credentials.load(self.secrets_dir)

    # -- persistence -------------------------------------------------------------------------
    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(
            json.dumps(
                {"ports": self.ports, "ipv6": self.ipv6, "overrides": [str(p) for p in self.overrides]}, indent=2
            )
            + "\n"
        )
        if self.owns_dotenv:
            self._write_dotenv()

    def snapshot(self) -> dict[Path, bytes | None]:
        """The project's state files as they are (None: its folder did not exist), to `restore` if a run
        fails: a run may remove only what it made. Another engine's project of the same name (issue 20)
        keeps its credentials when a run here fails."""
        files: dict[Path, bytes | None] = {self.state_dir: None} if not self.state_dir.exists() else {}
        for path in [p for p in self.state_dir.rglob("*") if p.is_file()] + [self.root / ".env"]:
            if path.is_file():
                files[path] = path.read_bytes()
        return files

    def restore(self, before: dict[Path, bytes | None]) -> list[str]:
        """Undo what a run did to the state: files it made removed, files it changed put back. Returns
        what it removed, to be said."""
        removed = []
        made_folder = self.state_dir in before
        now = [p for p in self.state_dir.rglob("*") if p.is_file()] if self.state_dir.exists() else []
        dotenv = self.root / ".env"
        for path in now + ([dotenv] if dotenv.is_file() and self.owns_dotenv else []):
            if path not in before:
                path.unlink()
                removed.append(str(path))
        for path, data in before.items():
            if data is not None and (not path.is_file() or path.read_bytes() != data):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        if made_folder:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return removed

    def forget_ports(self) -> None:
        """After `down`: the port choice ends with the stack; credentials stay with the volumes."""
        self.state_file.unlink(missing_ok=True)
        if self.owns_dotenv:
            dotenv = self.root / ".env"
            if dotenv.exists() and dotenv.read_text().startswith(DOTENV_HEADER):
                dotenv.unlink()

    def forget_all(self) -> None:
        self.forget_ports()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _write_dotenv(self) -> None:
        """Plain `docker compose` in the repo reads .env: same files, ports and secrets as lab."""
        dotenv = self.root / ".env"
        if dotenv.exists() and not dotenv.read_text().startswith(DOTENV_HEADER):
            return  # the user's own .env: leave it alone
        names = [str(f.relative_to(self.root)) if f.is_relative_to(self.root) else str(f) for f in self.files]
        lines = [f"COMPOSE_FILE={os.pathsep.join(names)}"]
        lines += [f"{k}={v}" for k, v in sorted(self.compose_env().items())]
        dotenv.write_text(DOTENV_HEADER + "\n".join(lines) + "\n")


def load(name: str = compose_model.PROJECT, root: Path | None = None, state_root: Path | None = None) -> Project:
    """The project as recorded (or its defaults when it was never brought up)."""
    project = Project(
        name=check_name(name),
        root=root or home.reference_root(),
        ipv6=hostnet.has_ipv6_loopback(),
        state_root=state_root or state_home(),
    )
    try:
        state = json.loads(project.state_file.read_text())
        project.ports.update({k: int(v) for k, v in state.get("ports", {}).items() if k in project.ports})
        project.ipv6 = bool(state.get("ipv6", project.ipv6)) and hostnet.has_ipv6_loopback()
        overrides = [Path(p) for p in state.get("overrides", [])]
    except FileNotFoundError:
        return project
    except (ValueError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"corrupt state file {project.state_file}: {exc}", f"remove it and run `lab up --project {name}` again"
        ) from exc
    for path in overrides:
        if path.is_file():
            project.overrides.append(path)
        else:  # a moved override must not lock the user out of `lab down`
            print(f"lab: warning: override {path} recorded for {name} is gone; ignoring it", file=sys.stderr)
    return project
