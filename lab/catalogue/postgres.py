"""postgres: Debian's PostgreSQL 15, initdb on first start (services/postgres)."""

from __future__ import annotations

import time

from lab.catalogue.reasons import reason_for
from lab.catalogue.spec import DROP_TO_USER, Credentials, Endpoint, ServiceSpec
from lab.catalogue.timing import elapsed_ms
from lab.errors import ProbeFailed

USER = "lab"
DATABASE = "lab"


def probe(endpoint: Endpoint, creds: Credentials, timeout: float) -> str:
    """Connect with the generated credentials and run SELECT 1."""
    import psycopg  # heavy (~0.2 s); only probes need it

    start = time.perf_counter()
    try:
        with psycopg.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=creds.postgres_user,
            password=creds.postgres_password,
            dbname=creds.postgres_db,
            connect_timeout=max(1, round(timeout)),
            sslmode="disable",
        ) as conn:
            row = conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        raise ProbeFailed("postgres", str(endpoint), reason_for(exc)) from exc
    if row != (1,):
        raise ProbeFailed("postgres", str(endpoint), f"wrong answer to SELECT 1: {row!r}")
    return f"SELECT 1 in {elapsed_ms(start)}"


SPEC = ServiceSpec(
    name="postgres",
    summary="PostgreSQL 15",
    container_port=5432,
    default_host_port=5432,
    protocols=("tcp",),
    probe=probe,
    secrets=("postgres_password",),
    volumes={"postgres-data": "/var/lib/postgresql/data"},
    environment={"POSTGRES_USER": USER, "POSTGRES_DB": DATABASE},
    stop_signal="SIGINT",  # postgres' "fast" shutdown
    stop_grace_period="10s",
    tmpfs=("/run/postgresql:size=1m,mode=0700", "/tmp:size=16m"),  # the socket and initdb's password file
    capabilities=DROP_TO_USER,
    # Measured under `python -m tests.bench.peaks`: 70 MiB, 20 pids. A backend is a process, and
    # shared_buffers (128 MB) fills as data is read: room for max_connections (100) and the buffers.
    mem_limit="512m",
    cpus=1.0,
    pids_limit=128,
)
