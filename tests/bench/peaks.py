"""Peak memory and pids of each container under load, next to the limits the catalogue sets.

    .venv/bin/python -m tests.bench.peaks [--project NAME] [--seconds 10]

Needs a running stack, wrk (Debian package `wrk`) and root (reads the containers' cgroups). Load, all at
once: wrk on GET /hits, GET /kv/{key} and GET /items (64 connections), 64 KiB POST /echo relays from 8
threads, 500 item inserts, and a 16 MiB round trip through the echo service. Every request goes to
127.0.0.1. Prints, per container: peak memory, peak pids (sampled every 0.1 s), and the limits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from lab import engine
from lab.catalogue import BY_NAME


def cgroup_file(cid: str, controller: str, v1: str, v2: str) -> Path | None:
    for path in (
        Path(f"/sys/fs/cgroup/{controller}/docker/{cid}/{v1}"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/{v2}"),
        Path(f"/sys/fs/cgroup/docker/{cid}/{v2}"),
    ):
        if path.exists():
            return path
    return None


def read_int(path: Path | None) -> int:
    try:
        return int(path.read_text().split()[0]) if path else 0
    except (OSError, ValueError):
        return 0


def lab_env(project: str) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "lab", "env", "--project", project, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def echo_16mib(host: str, port: int) -> float:
    payload = os.urandom(16 * 2**20)
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=30) as s:
        sender = threading.Thread(target=s.sendall, args=(payload,))
        sender.start()
        got = bytearray()
        while len(got) < len(payload):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        sender.join()
    assert bytes(got) == payload, f"echo returned {len(got)} of {len(payload)} bytes"
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default="lab")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("wrk"):
        print("needs root (cgroups) and wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    env = lab_env(args.project)
    api = env["API_URL"]
    echo_host, echo_port = env["ECHO_TCP"].rsplit(":", 1)
    containers = engine.client().containers.list(filters={"label": f"com.docker.compose.project={args.project}"})
    files = {}
    for c in containers:
        mem = cgroup_file(c.id, "memory", "memory.max_usage_in_bytes", "memory.peak")
        if mem and mem.name == "memory.max_usage_in_bytes":
            mem.write_text("0")  # reset the v1 high-water mark: measure this load only
        files[c] = (mem, cgroup_file(c.id, "pids", "pids.current", "pids.current"))
    pid_peaks = {c: 0 for c in containers}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for c, (_m, p) in files.items():
                pid_peaks[c] = max(pid_peaks[c], read_int(p))
            time.sleep(0.1)

    s = requests.Session()
    s.trust_env = False
    s.put(f"{api}/kv/bench", json={"value": "x" * 1000}).raise_for_status()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    d = f"{max(1, int(args.seconds))}s"
    wrks = [
        subprocess.Popen(["wrk", "-t1", "-c64", "-d", d, f"{api}{path}"], stdout=subprocess.DEVNULL)
        for path in ("/hits", "/kv/bench", "/items?limit=100")
    ]

    def relay(_):
        with requests.Session() as r:
            r.trust_env = False
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                r.post(f"{api}/echo", data=os.urandom(64 * 1024), timeout=10)

    def insert(i):
        s.post(f"{api}/items", json={"name": f"peak-{i}"}, timeout=10)

    with ThreadPoolExecutor(max_workers=16) as pool:
        relays = [pool.submit(relay, i) for i in range(8)]
        inserts = [pool.submit(insert, i) for i in range(500)]
        took = echo_16mib(echo_host, int(echo_port))
        for f in relays + inserts:
            f.result()
    for w in wrks:
        w.wait()
    stop.set()
    sampler.join()
    print(f"load: wrk x3 ({d}, 64 connections each), 8 x 64 KiB /echo relays, 500 inserts, 16 MiB echo in {took:.2f} s")
    print(f"{'container':28} {'peak MiB':>9} {'limit MiB':>9} {'peak pids':>9} {'pids limit':>10} {'cpus':>5}")
    for c in sorted(containers, key=lambda c: c.name):
        spec = BY_NAME.get(c.labels.get("com.docker.compose.service", ""))
        host = c.attrs["HostConfig"]
        peak = read_int(files[c][0]) / 2**20
        limit = (host.get("Memory") or 0) / 2**20
        print(
            f"{c.name:28} {peak:9.1f} {limit:9.0f} {pid_peaks[c]:9d} {host.get('PidsLimit') or 0:10d} "
            f"{(host.get('NanoCpus') or 0) / 1e9:5g}" + ("" if spec else "  (not in the catalogue)")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
