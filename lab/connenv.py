"""Connection settings for clients on the host: `lab env` (shell, dotenv or JSON)."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lab.project loads the docker SDK; the CLI's parser reads FORMATS here
    from lab.credentials import Credentials
    from lab.project import Project

FORMATS = ("shell", "dotenv", "json")


def settings(project: Project, creds: Credentials) -> dict[str, str]:
    host = "127.0.0.1"
    p = project.ports
    return {
        # The explicit `default` user: Debian's redis-cli 7.0 sends an empty user name for redis://:pw@…
        "REDIS_URL": f"redis://default:{creds.redis_password}@{host}:{p['redis']}/0",
        "DATABASE_URL": f"postgresql://{creds.postgres_user}:{creds.postgres_password}@{host}:{p['postgres']}"
        f"/{creds.postgres_db}",
        "API_URL": f"http://{host}:{p['api']}",
        "ECHO_TCP": f"{host}:{p['echo']}",
        "ECHO_UDP": f"{host}:{p['echo']}",
    }


def render(values: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(values, indent=2)
    if fmt == "dotenv":
        return "\n".join(f"{k}={v}" for k, v in values.items())
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in values.items())
