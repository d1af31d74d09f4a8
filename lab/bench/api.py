"""The API under wrk next to a bare ASGI "hello" served by the same image, python, uvicorn and flags.

wrk runs on this host and competes with the server for its CPUs, for every row alike; 64 connections,
every request to 127.0.0.1.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time

import requests

from lab import engine, ports, tools
from lab.bench.stats import Row, Series, Target, rotate
from lab.compose_cli import PROJECT_LABEL, SERVICE_LABEL
from lab.project import Project

HITS = Target("ratio", ">=", 0.9)
KV = Target("ratio", ">=", 0.5)
CONNECTIONS = 64

# Served by uvicorn with the api's own flags in a container of the api's image: the ceiling there.
HELLO_MODULE = r"""
BODY = b'{"hello":"world"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""
LAUNCHER = r"""
import os
os.makedirs("/tmp/hello", exist_ok=True)
with open("/tmp/hello/hello.py", "w") as fh:
    fh.write(os.environ["HELLO_MODULE"])
os.execv("/opt/venv/bin/uvicorn", ["uvicorn", "hello:app", "--app-dir", "/tmp/hello", "--host", "0.0.0.0",
         "--port", "5000", "--workers", os.environ.get("API_WORKERS", "1"), "--no-server-header",
         "--no-access-log"])
"""


def wrk_rps(wrk: str, url: str, seconds: float) -> float:
    out = subprocess.run(
        [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    found = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if not found or errors:
        raise RuntimeError(f"wrk on {url}: {'non-2xx answers' if errors else 'no figure'}: {out.strip()[-300:]}")
    return float(found.group(1))


def _hello(project: Project) -> tuple[object, str]:
    """The hello container on a free 127.0.0.1 port, answering; the caller removes it."""
    client = engine.client()
    api = next(
        iter(client.containers.list(filters={"label": [f"{PROJECT_LABEL}={project.name}", f"{SERVICE_LABEL}=api"]}))
    )
    port = ports.pick_free(1, ("tcp",), ("127.0.0.1",), 20000, 45000)[0]
    workers = next((e.split("=", 1)[1] for e in api.attrs["Config"]["Env"] if e.startswith("API_WORKERS=")), "1")
    c = client.containers.run(
        api.image.id,
        ["-c", LAUNCHER],
        entrypoint="/opt/venv/bin/python",
        detach=True,
        user="app",
        name=f"lab-bench-hello-{port}",
        labels={"lab.bench": "hello"},
        read_only=True,
        tmpfs={"/tmp": "size=1m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        nano_cpus=int(api.attrs["HostConfig"].get("NanoCpus") or 0) or None,
        environment={"HELLO_MODULE": HELLO_MODULE, "API_WORKERS": workers, "PYTHONDONTWRITEBYTECODE": "1"},
        ports={"5000/tcp": ("127.0.0.1", port)},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return c, url
        except requests.RequestException:
            time.sleep(0.2)
    c.remove(force=True)
    raise RuntimeError("the hello container did not answer within 30 s")


def rows(project: Project, quick: bool) -> list[Row]:
    wrk = tools.ensure("wrk", "wrk")
    if not wrk:
        why = "wrk is not installed (apt-get install wrk; lab installs it when run as root)"
        return [Row("API GET /hits (redis INCR)", target=HITS, skip=why), Row("API GET /kv/{key}", target=KV, skip=why)]
    api = f"http://127.0.0.1:{project.ports['api']}"
    key = f"bench-{secrets.token_hex(4)}"
    requests.put(f"{api}/kv/{key}", json={"value": "x" * 64}, timeout=5).raise_for_status()
    seconds = 2 if quick else 5
    hello, hello_url = _hello(project)
    try:
        for url in (f"{api}/hits", f"{api}/kv/{key}", hello_url):
            wrk_rps(wrk, url, 1)  # warm-up: connections, pools, caches
        hits, kv, base = rotate(
            [
                lambda: wrk_rps(wrk, f"{api}/hits", seconds),
                lambda: wrk_rps(wrk, f"{api}/kv/{key}", seconds),
                lambda: wrk_rps(wrk, hello_url, seconds),
            ],
            2 if quick else 3,
        )
    finally:
        hello.remove(force=True)
        requests.delete(f"{api}/kv/{key}", timeout=5)
    ref = Series(base, "req/s")
    name = "bare ASGI hello, same image and flags"
    return [
        Row("API GET /hits (redis INCR), wrk 64 conns", Series(hits, "req/s"), name, ref, HITS),
        Row("API GET /kv/{key} (redis GET), wrk 64 conns", Series(kv, "req/s"), name, ref, KV),
    ]
