"""Throughput and p99 latency of the api under wrk, next to a bare uvicorn "hello" app.

    .venv/bin/python -m tests.bench.api_wrk [--project NAME] [--duration 10] [--connections 64]

Needs a running stack (`lab up [--project NAME]`) and wrk (Debian package `wrk`). The API URL
comes from `lab env --format json`. Every request goes to 127.0.0.1.

The baseline runs in the api's own image (lab/api:local, so the same python, uvicorn, uvloop
and httptools) as a separate container published on 127.0.0.1:<free port>, with the api's
worker count and uvicorn flags, and is removed in a `finally`. Rows:

  GET /hits            redis INCR through the whole api (middleware, validation, pool)
  GET /kv/{key}        redis GET of a key PUT beforehand
  hello (ASGI)         a bare ASGI app under uvicorn: the ceiling for this image and machine
  hello (FastAPI)      a one-route FastAPI app: the framework's share of the difference

and the ratio /hits ÷ hello (ASGI). wrk runs on the same host and competes for its CPUs with
the server, for every row alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

IMAGE = "lab/api:local"
TARGET_RATIO = 0.5
RESERVED_PORTS = {5000, 5432, 6379, 65432}  # the default project's; never used for the baseline

# Written into the baseline container and served by uvicorn with the api's flags.
HELLO_MODULE = r"""
import json

BODY = json.dumps({"hello": "world"}).encode()
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


from fastapi import FastAPI

fastapi_app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@fastapi_app.get("/")
async def hello():
    return {"hello": "world"}
"""

# Runs as the container's command: writes the module, then execs uvicorn like the api's entrypoint.
LAUNCHER = r"""
import os, sys
os.makedirs("/tmp/hello", exist_ok=True)
with open("/tmp/hello/hello.py", "w") as fh:
    fh.write(os.environ["HELLO_MODULE"])
app, workers = sys.argv[1], sys.argv[2]
os.execv("/opt/venv/bin/uvicorn", ["uvicorn", "hello:" + app, "--app-dir", "/tmp/hello",
         "--host", "0.0.0.0", "--port", "5000", "--workers", workers,
         "--timeout-graceful-shutdown", "1", "--no-server-header", "--no-access-log"])
"""


class BenchError(Exception):
    pass


@dataclass
class WrkResult:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


# -- wrk -------------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise BenchError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(name: str, out: str) -> WrkResult:
    """Parse `wrk --latency` output: Requests/sec, the 50% and 99% lines, errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"^\s+(\d+) requests in", out, re.M)
    if not (rps and p50 and p99 and total):
        raise BenchError(f"unexpected wrk output for {name}:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        name=name,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(x) for x in sock.groups()) if sock else 0,
    )


def run_wrk(wrk: str, name: str, url: str, connections: int, duration: int, threads: int) -> WrkResult:
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "--latency", url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed for {name}: {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(name, proc.stdout)


def warm_up(wrk: str, url: str, threads: int) -> None:
    subprocess.run([wrk, f"-t{threads}", "-c16", "-d2s", url], capture_output=True, timeout=60)


# -- the stack ---------------------------------------------------------------------------------
def api_url(project: str | None) -> str:
    argv = [sys.executable, "-m", "lab", "env", "--format", "json"]
    if project:
        argv += ["--project", project]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise BenchError(f"`lab env` failed: {proc.stderr.strip()}")
    url = json.loads(proc.stdout)["API_URL"]
    if not url.startswith(("http://127.0.0.1:", "http://[::1]:")):
        raise BenchError(f"refusing a non-loopback API_URL: {url}")
    return url


def http(method: str, url: str, body: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def docker(*args: str, timeout: float = 60) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise BenchError(f"docker {' '.join(args[:2])} failed: {proc.stderr.strip()}")
    return proc.stdout


def api_workers(project: str) -> int:
    """API_WORKERS of the running api container (the image's default is 1)."""
    ids = docker(
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        "label=com.docker.compose.service=api",
    ).split()
    if not ids:
        raise BenchError(f"no running api container in project {project!r} (lab up --project {project})")
    env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", ids[0]))
    values = dict(e.split("=", 1) for e in env if "=" in e)
    return int(values.get("API_WORKERS") or 1)


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", url, timeout=1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s")


def start_hello(name: str, app: str, port: int, workers: int) -> None:
    docker(
        "run",
        "-d",
        "--rm",
        "--name",
        name,
        "--label",
        "lab.bench=hello",
        "--user",
        "app",
        "--security-opt",
        "no-new-privileges:true",
        "-p",
        f"127.0.0.1:{port}:5000",
        "-e",
        "HELLO_MODULE",
        "-e",
        "PYTHONDONTWRITEBYTECODE=1",
        "--entrypoint",
        "/opt/venv/bin/python",
        IMAGE,
        "-c",
        LAUNCHER,
        app,
        str(workers),
    )


def stop_hello(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


# -- main ------------------------------------------------------------------------------------------
def table(results: list[WrkResult]) -> str:
    head = f"{'endpoint':<18} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'requests':>10} {'errors':>7}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<18} {r.rps:>10.0f} {r.p50_ms:>9.2f} {r.p99_ms:>9.2f} {r.requests:>10} "
            f"{r.non_2xx + r.socket_errors:>7}"
        )
    return "\n".join(lines)


def median_result(runs: list[WrkResult]) -> WrkResult:
    """The run with the median requests/s (its p50/p99 come with it); errors summed over all runs."""
    ordered = sorted(runs, key=lambda r: r.rps)
    mid = ordered[len(ordered) // 2]
    return dataclasses.replace(
        mid, non_2xx=sum(r.non_2xx for r in runs), socket_errors=sum(r.socket_errors for r in runs)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.api_wrk", description=__doc__.split("\n")[0])
    ap.add_argument("--project", default=None, help="lab project of the running stack (default: lab)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args(argv)

    wrk = shutil.which("wrk")
    if not wrk:
        print("api_wrk: wrk not found (apt-get install wrk)", file=sys.stderr)
        return 2
    if not shutil.which("docker"):
        print("api_wrk: docker CLI not found", file=sys.stderr)
        return 2
    project = args.project or "lab"
    try:
        api = api_url(args.project)
        workers = api_workers(project)
        status, _ = http("GET", api + "/health")
        if status != 200:
            raise BenchError(f"{api}/health answered {status}: the stack is not healthy")
        key = f"bench-{secrets.token_hex(4)}"
        status, _ = http("PUT", f"{api}/kv/{key}", {"value": "x" * 64})
        if status != 200:
            raise BenchError(f"PUT /kv/{key} answered {status}")

        print(
            f"api {api} (project {project}, {workers} worker(s)); wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s --latency, {args.rounds} interleaved rounds, medians",
            file=sys.stderr,
        )
        targets = [("GET /hits", api + "/hits"), ("GET /kv/{key}", f"{api}/kv/{key}")]
        os.environ["HELLO_MODULE"] = HELLO_MODULE
        hellos = []
        try:
            for label, app in (("hello (ASGI)", "app"), ("hello (FastAPI)", "fastapi_app")):
                name, port = f"lab-bench-hello-{secrets.token_hex(3)}", free_port()
                hellos.append(name)
                start_hello(name, app, port, workers)
                url = f"http://127.0.0.1:{port}/"
                wait_ready(url)
                targets.append((label, url))
            for _name, url in targets:
                warm_up(wrk, url, args.threads)
            # Interleaved rounds, medians: the machine is shared, so side by side beats one after another.
            runs: dict[str, list[WrkResult]] = {name: [] for name, _ in targets}
            for _round in range(args.rounds):
                for name, url in targets:
                    runs[name].append(run_wrk(wrk, name, url, args.connections, args.duration, args.threads))
        finally:
            for name in hellos:
                stop_hello(name)
        http("DELETE", f"{api}/kv/{key}")
        results = [median_result(rs) for rs in runs.values()]
    except BenchError as exc:
        print(f"api_wrk: {exc}", file=sys.stderr)
        return 1

    by_name = {r.name: r for r in results}
    ratio = by_name["GET /hits"].rps / by_name["hello (ASGI)"].rps
    print(table(results))
    print(f"\n/hits ÷ hello (ASGI) = {ratio:.2f}  (target ≥ {TARGET_RATIO})")
    print(f"/hits ÷ hello (FastAPI) = {by_name['GET /hits'].rps / by_name['hello (FastAPI)'].rps:.2f}")
    if args.json:
        print(json.dumps({"results": [r.__dict__ for r in results], "ratio_hits_hello": ratio}, indent=2))
    errors = sum(r.non_2xx + r.socket_errors for r in results)
    if errors:
        print(f"api_wrk: {errors} non-2xx responses or socket errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
