"""redis: Debian's Redis 7 with a required password (services/redis)."""

from __future__ import annotations

import os
import time

from lab.catalogue.reasons import reason_for
from lab.catalogue.spec import DROP_TO_USER, Credentials, Endpoint, ServiceSpec
from lab.catalogue.timing import elapsed_ms
from lab.errors import ProbeFailed


def probe(endpoint: Endpoint, creds: Credentials, timeout: float) -> str:
    """AUTH + PING, then SET/GET of a random short-lived key."""
    import redis  # heavy (~0.2 s); only probes need it
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    start = time.perf_counter()
    client = redis.Redis(
        host=endpoint.host,
        port=endpoint.port,
        password=creds.redis_password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        # One try: redis-py's default retries turn a hung server (a paused container behind docker-proxy,
        # which accepts the connection) into ~13 timeouts; a probe must answer within its own timeout.
        retry=Retry(NoBackoff(), 0),
    )
    key, value = f"lab:probe:{os.urandom(6).hex()}", os.urandom(8).hex()
    try:
        if client.ping() is not True:
            raise ProbeFailed("redis", str(endpoint), "wrong answer to PING")
        client.set(key, value, ex=30)
        got = client.get(key)
        client.delete(key)
    except redis.AuthenticationError as exc:
        raise ProbeFailed("redis", str(endpoint), "auth failed") from exc
    except redis.RedisError as exc:
        raise ProbeFailed("redis", str(endpoint), reason_for(exc.__cause__ or exc)) from exc
    finally:
        client.close()
    if got != value.encode():
        raise ProbeFailed("redis", str(endpoint), f"wrong answer: GET returned {got!r}")
    return f"AUTH+PING+SET/GET in {elapsed_ms(start)}"


SPEC = ServiceSpec(
    name="redis",
    summary="Redis 7 (password required)",
    container_port=6379,
    default_host_port=6379,
    protocols=("tcp",),
    probe=probe,
    secrets=("redis_password",),
    volumes={"redis-data": "/data"},
    tmpfs=("/run/redis:size=64k,mode=0700", "/tmp:size=1m"),  # the auth include; nothing else is written
    stop_grace_period="5s",
    capabilities=DROP_TO_USER,
    # Measured under `python -m tests.bench.peaks`: 20 MiB, 13 pids. The dataset lives in this memory (and
    # an AOF rewrite forks, copy-on-write): 256 MiB leaves room for a lab's data.
    mem_limit="256m",
    cpus=1.0,
    pids_limit=32,
)
