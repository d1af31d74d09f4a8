"""Where the reference stack's files live: this checkout, or a folder of the user's when lab is installed.

- In a checkout (`services/` beside the `lab` package, as in `pip install -e .`): the repository itself, as
  always — `make up`, plain `docker compose` there and `lab generate --check` read its tracked compose.yaml.
- From a wheel: the services' build contexts ship read-only inside the package (`lab/_services`, copied by
  setup.py from the top-level `services/` at build time). The files lab writes — compose.yaml,
  compose.ipv6.yaml, the default project's .env — go to `stack.d/` in the user's state folder
  (`$LAB_STATE_HOME`, else `$XDG_STATE_HOME/lab`, else `~/.local/state/lab`), whose `services` is a link to
  the package's copy: Compose builds from there, and nothing is ever written under site-packages.
  `stack.d` is not a valid project name, so no project's state can collide with it; it is the same on every
  engine (the files are), while each engine's state stays under `engines.d/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.errors import LabError

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
BUNDLED = PACKAGE / "_services"
STACK = "stack.d"


def in_checkout() -> bool:
    return (CHECKOUT / "services").is_dir() and (CHECKOUT / "pyproject.toml").is_file()


def state_base() -> Path:
    """The user's lab folder, before any per-engine part (lab/project.py adds that)."""
    explicit = os.environ.get("LAB_STATE_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "lab"


def reference_root() -> Path:
    """The folder compose.yaml of the reference stack is in, made ready (a wheel's `services` linked)."""
    if in_checkout():
        return CHECKOUT
    if not (BUNDLED / "echo" / "Dockerfile").is_file():
        raise LabError(
            f"the services' build contexts are not in this install ({BUNDLED} missing)",
            "install lab from its wheel or sdist (pip install loopback-lab), or run it from a checkout",
        )
    root = state_base() / STACK
    root.mkdir(parents=True, exist_ok=True)
    link = root / "services"
    if not link.is_symlink() or link.resolve() != BUNDLED:  # another install (a new venv) moves the target
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise LabError(f"{link} is not lab's link to its services", f"remove {link} and run lab again")
        link.symlink_to(BUNDLED, target_is_directory=True)
    return root
