"""api: the web API on 5000 (services/api), which reaches the others over the private network."""

from __future__ import annotations

import time

from lab.catalogue import echo, postgres, redis
from lab.catalogue.reasons import reason_for
from lab.catalogue.spec import DROP_TO_USER, Credentials, Endpoint, ServiceSpec, WebSurface
from lab.catalogue.timing import elapsed_ms
from lab.errors import ProbeFailed


def probe(endpoint: Endpoint, _creds: Credentials, timeout: float) -> str:
    """GET /health: 200 and every dependency reported ok."""
    import requests  # heavy (~0.2 s); only probes need it

    start = time.perf_counter()
    url = f"http://{endpoint.address}/health"
    try:
        with requests.Session() as session:
            session.trust_env = False  # an http_proxy in the environment must not carry loopback traffic
            resp = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise ProbeFailed("api", str(endpoint), reason_for(exc)) from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    failing = sorted(name for name, check in checks.items() if not check.get("ok"))
    if resp.status_code != 200 or failing or not checks:
        why = f"dependencies down: {', '.join(failing)}" if failing else "no dependency report"
        raise ProbeFailed("api", str(endpoint), f"GET /health -> {resp.status_code}; {why}")
    return f"GET /health 200 ({', '.join(sorted(checks))} ok) in {elapsed_ms(start)}"


SPEC = ServiceSpec(
    name="api",
    summary="web API",
    container_port=5000,
    default_host_port=5000,
    protocols=("tcp",),
    probe=probe,
    secrets=("redis_password", "postgres_password"),
    build_secrets=("ca_bundle",),
    # The API reaches its dependencies by service name on the private network.
    environment={
        "REDIS_HOST": redis.SPEC.name,
        "REDIS_PORT": str(redis.SPEC.container_port),
        "POSTGRES_HOST": postgres.SPEC.name,
        "POSTGRES_PORT": str(postgres.SPEC.container_port),
        "POSTGRES_USER": postgres.USER,
        "POSTGRES_DB": postgres.DATABASE,
        "ECHO_HOST": echo.SPEC.name,
        "ECHO_PORT": str(echo.SPEC.container_port),
    },
    depends_on=("redis", "postgres", "echo"),
    tmpfs=("/run/api-secrets:size=64k,mode=0700", "/tmp:size=16m"),  # the copied passwords; temp files
    stop_grace_period="5s",
    # /info has data a rebinding page would want; POST /echo makes the API relay a body for the page.
    web=WebSurface(read="/info", write="/echo"),
    capabilities=DROP_TO_USER,
    # Measured under `python -m tests.bench.peaks` (wrk x3, 64 KiB relays, inserts): 112 MiB, 46 pids
    # (one uvicorn worker: its threads and pools). API_WORKERS > 1 needs more of both.
    mem_limit="256m",
    cpus=1.5,
    pids_limit=128,
)
