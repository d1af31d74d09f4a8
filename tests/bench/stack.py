"""Benchmarks for the backbone and verify (prints numbers; asserts nothing — the machine is shared).

    .venv/bin/python -m tests.bench.stack

- verify: wall time of the whole verify (neighbour probe included), in-process and as a CLI run;
- warm `lab up` (images built, stack down) next to `docker compose up -d --wait` on the same files;
- image sizes (the base layer is shared, so the unique total is base + each image's own layers).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from lab import engine, ports, stack, verify
from lab import project as projects
from lab.catalogue import SERVICES
from lab.images import LOCAL_BASE, OFFICIAL_BASE


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_verify(p: projects.Project, runs: int = 5) -> None:
    inproc = [timed(lambda: verify.run(p)) for _ in range(runs)]
    cli = [
        timed(lambda: subprocess.run([sys.executable, "-m", "lab", "verify", "--project", p.name], capture_output=True))
        for _ in range(runs)
    ]
    print(
        f"verify (in-process, {runs} runs): median {statistics.median(inproc):.2f} s, "
        f"min {min(inproc):.2f} s, max {max(inproc):.2f} s"
    )
    print(f"verify (CLI incl. interpreter start and imports): median {statistics.median(cli):.2f} s")


def bench_up(p: projects.Project) -> None:
    compose = stack.compose_for(p)
    stack.down(p)
    p.save()
    lab_up = timed(
        lambda: subprocess.run(
            [
                sys.executable,
                "-m",
                "lab",
                "up",
                "--project",
                p.name,
                "--no-verify",
                *[f"--port={s}={port}" for s, port in p.ports.items()],
            ],
            capture_output=True,
            check=True,
        )
    )
    stack.down(p)
    p.save()
    wait = timed(lambda: compose.run("up", "--detach", "--wait", "--no-build", "--pull", "never", timeout=600))
    print(
        f"warm up, stack down -> every service answering: lab up {lab_up:.1f} s "
        f"(incl. ~1 s of interpreter start and image checks) vs docker compose up -d --wait {wait:.1f} s "
        f"(ratio {wait / lab_up:.2f}x)"
    )


def bench_images() -> None:
    sizes = {}
    for name in [s.image for s in SERVICES]:
        sizes[name] = engine.client().images.get(name).attrs["Size"]
    base = next((b for b in (OFFICIAL_BASE, LOCAL_BASE) if engine.image_id(b)), None)
    base_size = engine.client().images.get(base).attrs["Size"] if base else 0
    for name, size in sizes.items():
        print(f"  {name:20} {size / 1e6:6.0f} MB ({(size - base_size) / 1e6:.0f} MB over the base)")
    unique = base_size + sum(s - base_size for s in sizes.values())
    print(
        f"images: {base} {base_size / 1e6:.0f} MB shared; total on disk {unique / 1e6:.0f} MB "
        f"(naive sum {sum(sizes.values()) / 1e6:.0f} MB)"
    )


def main() -> int:
    p = projects.Project("labbench", ipv6=projects.hostnet.has_ipv6_loopback())
    chosen = ports.pick_free(len(SERVICES), ("tcp", "udp"), p.hosts, low=20000, high=45000)
    p.ports = {s.name: port for s, port in zip(SERVICES, chosen, strict=True)}
    try:
        stack.up(p)
        bench_verify(p)
        bench_up(p)
        bench_images()
    finally:
        stack.down(p, volumes=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
