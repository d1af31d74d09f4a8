"""Runtime settings, read once from the environment.

Passwords are never taken from environment *values*: only the paths of the
files holding them are (REDIS_PASSWORD_FILE, POSTGRES_PASSWORD_FILE).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

SERVICE_NAMES = ("echo", "api", "redis", "postgres")
LOOPBACK_NAMES = ("127.0.0.1", "[::1]", "localhost")


class ConfigError(Exception):
    """A setting is missing or unusable; the message is one line."""


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not 0 < value < 65536 and name.endswith("_PORT"):
        raise ConfigError(f"{name} must be a port number (1..65535), got {value}")
    return value


def read_secret(env_name: str, default_path: str) -> str:
    path = os.environ.get(env_name) or default_path
    try:
        with open(path, encoding="utf-8") as fh:
            value = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read secret {path} ({env_name}): {exc.strerror}") from None
    # Secret files conventionally end with one newline; strip only line endings.
    value = value.rstrip("\r\n")
    if not value:
        raise ConfigError(f"secret {path} ({env_name}) is empty")
    return value


def parse_host_addresses(raw: str | None) -> dict[str, str]:
    """LAB_HOST_ADDRESSES: JSON object service -> "host:port" on the host."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        print("api: ignoring LAB_HOST_ADDRESSES: not valid JSON", file=sys.stderr)
        return {}
    if not isinstance(data, dict):
        print("api: ignoring LAB_HOST_ADDRESSES: not a JSON object", file=sys.stderr)
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int))}


@dataclass(frozen=True)
class Settings:
    redis_host: str
    redis_port: int
    redis_username: str | None
    redis_password: str = field(repr=False)
    postgres_host: str = "postgres"
    postgres_port: int = 5432
    postgres_user: str = "lab"
    postgres_db: str = "lab"
    postgres_password: str = field(default="", repr=False)
    echo_host: str = "echo"
    echo_port: int = 65432
    api_port: int = 5000
    host_addresses: dict[str, str] = field(default_factory=dict)
    dep_timeout: float = 1.0
    redis_pool_max: int = 32
    postgres_pool_min: int = 2
    postgres_pool_max: int = 10

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            redis_host=env.get("REDIS_HOST") or "redis",
            redis_port=_int_env("REDIS_PORT", 6379),
            redis_username=env.get("REDIS_USERNAME") or None,
            redis_password=read_secret("REDIS_PASSWORD_FILE", "/run/secrets/redis_password"),
            postgres_host=env.get("POSTGRES_HOST") or "postgres",
            postgres_port=_int_env("POSTGRES_PORT", 5432),
            postgres_user=env.get("POSTGRES_USER") or "lab",
            postgres_db=env.get("POSTGRES_DB") or "lab",
            postgres_password=read_secret("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres_password"),
            echo_host=env.get("ECHO_HOST") or "echo",
            echo_port=_int_env("ECHO_PORT", 65432),
            api_port=_int_env("API_PORT", 5000),
            host_addresses=parse_host_addresses(env.get("LAB_HOST_ADDRESSES")),
            redis_pool_max=_int_env("REDIS_POOL_MAX", 32),
            postgres_pool_min=_int_env("POSTGRES_POOL_MIN", 2),
            postgres_pool_max=_int_env("POSTGRES_POOL_MAX", 10),
        )

    def published_port(self) -> int | None:
        """The API's port on the host, from LAB_HOST_ADDRESSES ("127.0.0.1:5000")."""
        _, _, port = self.host_addresses.get("api", "").rpartition(":")
        return int(port) if port.isdigit() else None

    def allowed_hosts(self) -> frozenset[tuple[str, int]]:
        """(host, port) pairs a request may be addressed to: our loopback names on the published port
        (and on our own port, which the container's healthcheck uses), our name on the private network."""
        ports = {self.api_port} | ({self.published_port()} - {None})
        return frozenset({(h, p) for h in LOOPBACK_NAMES for p in ports} | {("api", self.api_port)})

    def allowed_origins(self) -> frozenset[str]:
        """Pages of the API itself, as the host's browser loads them: on the published port only (port 5000
        may be another project's API, or any other local server)."""
        port = self.published_port() or self.api_port
        return frozenset(f"http://{h}:{port}" for h in LOOPBACK_NAMES)

    def network_addresses(self) -> dict[str, str]:
        return {
            "echo": f"{self.echo_host}:{self.echo_port}",
            "api": f"api:{self.api_port}",
            "redis": f"{self.redis_host}:{self.redis_port}",
            "postgres": f"{self.postgres_host}:{self.postgres_port}",
        }
