"""echo: an asyncio TCP and UDP echo server (services/echo)."""

from __future__ import annotations

import os
import socket
import time

from lab.addr import family
from lab.catalogue.reasons import reason_for
from lab.catalogue.spec import Credentials, Endpoint, ServiceSpec
from lab.catalogue.timing import elapsed_ms
from lab.errors import ProbeFailed


def probe(endpoint: Endpoint, _creds: Credentials, timeout: float) -> str:
    """Round-trip a random payload over the endpoint's protocol."""
    payload = os.urandom(16).hex().encode()
    start = time.perf_counter()
    kind = socket.SOCK_STREAM if endpoint.protocol == "tcp" else socket.SOCK_DGRAM
    try:
        with socket.socket(family(endpoint.host), kind) as sock:
            sock.settimeout(timeout)
            sock.connect((endpoint.host, endpoint.port))
            sock.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = sock.recv(len(payload) - len(got)) if kind == socket.SOCK_STREAM else sock.recv(65535)
                if not chunk:
                    break
                got += chunk
    except OSError as exc:
        raise ProbeFailed("echo", str(endpoint), reason_for(exc)) from exc
    if got != payload:
        raise ProbeFailed("echo", str(endpoint), f"wrong answer: sent {len(payload)} bytes, got {got[:40]!r}")
    return f"{len(payload)} B round trip in {elapsed_ms(start)}"


SPEC = ServiceSpec(
    name="echo",
    summary="TCP+UDP echo server",
    container_port=65432,
    default_host_port=65432,
    protocols=("tcp", "udp"),
    probe=probe,
    stop_grace_period="3s",
    # Starts as its own user (uid 10001) and binds an unprivileged port: no capability at all.
    # Measured under `python -m tests.bench.peaks` (16 MiB echo, wrk on the api): 37 MiB, 8 pids.
    mem_limit="128m",
    cpus=1.0,
    pids_limit=32,
)
