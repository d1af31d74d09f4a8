"""The echo service next to a plain socat echo, both behind docker-proxy on the same loopback addresses.

Every byte goes host -> docker-proxy -> container and back for both, so the ratio shows the server's own
cost. Round trips: one connection, `size` bytes out and the same back, timed each. Throughput: one
connection streaming `size`-byte writes while a reader drains the echo, for a fixed number of bytes.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from dataclasses import dataclass

from lab import engine, ports
from lab.bench.stats import Row, Series, Target, rotate
from lab.images import ensure_base

SOCAT_IMAGE = "lab/bench-socat:local"
SOCAT_PORT = 65432
SOCAT_DOCKERFILE = f"""
ARG BASE_IMAGE
FROM ${{BASE_IMAGE}}
RUN apt-get update && apt-get install -y --no-install-recommends socat && rm -rf /var/lib/apt/lists/*
USER 10001:10001
CMD ["socat", "TCP-LISTEN:{SOCAT_PORT},fork,reuseaddr", "EXEC:cat"]
"""
# EXEC:cat, not PIPE: socat echoing through one pipe of its own blocks writing into it once the pipe is
# full (seen here: streams of 64 B writes stalled for good), so the classic `fork EXEC:cat` it is.
SIZES = (64, 64 * 1024)
P50_TARGET = Target("ratio", "<=", 1.1)
THROUGHPUT_TARGET = Target("ratio", ">=", 0.9)


def _label(size: int) -> str:
    return "64 B" if size == 64 else f"{size // 1024} KiB"


def ensure_socat_image() -> None:
    if engine.image_id(SOCAT_IMAGE):
        return
    engine.client().images.build(
        fileobj=io.BytesIO(SOCAT_DOCKERFILE.encode()), tag=SOCAT_IMAGE, buildargs={"BASE_IMAGE": ensure_base()}, rm=True
    )


@dataclass
class Socat:
    """A socat echo container on the project's network, locked down like the echo service."""

    container: object
    ports: dict[str, int]  # host -> published port

    @classmethod
    def start(cls, network: str, hosts: list[str]) -> Socat:
        ensure_socat_image()
        port = ports.pick_free(1, ("tcp",), hosts, 20000, 45000)[0]
        c = engine.client().containers.run(
            SOCAT_IMAGE,
            detach=True,
            name=f"lab-bench-socat-{port}",
            network=network,
            ports={f"{SOCAT_PORT}/tcp": [(h, port) for h in hosts]},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            read_only=True,
            mem_limit="128m",
            nano_cpus=1_000_000_000,
            pids_limit=32,
            labels={"lab.bench": "socat"},
        )
        sock = cls(c, {h: port for h in hosts})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                round_trips(hosts[0], port, 8, 3)
                return sock
            except OSError:
                time.sleep(0.1)
        sock.stop()
        raise OSError("the socat echo container did not answer within 20 s")

    def stop(self) -> None:
        self.container.remove(force=True)


def _connect(host: str, port: int) -> socket.socket:
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _read_exactly(s: socket.socket, n: int, buf: bytearray) -> None:
    view = memoryview(buf)
    got = 0
    while got < n:
        k = s.recv_into(view[got:n])
        if not k:
            raise OSError("echo closed the connection")
        got += k


def round_trips(host: str, port: int, size: int, count: int) -> list[float]:
    """Seconds per round trip of `size` bytes, `count` times on one connection (after a short warm-up)."""
    payload = bytes(range(256)) * (size // 256) or b"x" * size
    buf = bytearray(size)
    out = []
    with _connect(host, port) as s:
        for i in range(count + min(count, 20)):
            t0 = time.perf_counter()
            s.sendall(payload)
            _read_exactly(s, size, buf)
            if i >= min(count, 20):
                out.append(time.perf_counter() - t0)
    return out


WINDOW = 256 * 1024  # bytes in flight at most: a steady stream, never a pile-up in the servers' buffers


def throughput(host: str, port: int, size: int, total: int) -> float:
    """MB/s echoed: `size`-byte writes streamed by one thread (at most WINDOW bytes unanswered) while
    this one reads everything back."""
    payload = b"\xa5" * size
    writes = max(1, total // size)
    received = [0]
    ready = threading.Event()
    with _connect(host, port) as s:
        failure: list[BaseException] = []

        def writer() -> None:
            try:
                sent = 0
                for _ in range(writes):
                    while sent - received[0] > WINDOW:
                        ready.wait(0.01)
                        ready.clear()
                    s.sendall(payload)
                    sent += size
            except OSError as exc:
                failure.append(exc)

        buf = bytearray(256 * 1024)
        t0 = time.perf_counter()
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        want = writes * size
        while received[0] < want:
            k = s.recv_into(buf)
            if not k:
                raise OSError("echo closed the connection mid-stream")
            received[0] += k
            ready.set()
        seconds = time.perf_counter() - t0
        thread.join()
        if failure:
            raise failure[0]
    return want / seconds / 1e6


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _case(host: str, lab_port: int, socat_port: int, size: int, rounds: int, quick: bool) -> tuple[list[Row], dict]:
    count = (300 if quick else 1000) if size == 64 else (100 if quick else 300)
    total = (4 if quick else 16) * 2**20 if size == 64 else (32 if quick else 128) * 2**20
    every: dict[int, list[float]] = {lab_port: [], socat_port: []}

    def p50(port: int) -> float:
        values = round_trips(host, port, size, count)
        every[port] += values
        return _pct(values, 0.5) * 1e3

    p50_lab, p50_socat = rotate([lambda: p50(lab_port), lambda: p50(socat_port)], rounds)
    tp_lab, tp_socat = rotate(
        [lambda: throughput(host, lab_port, size, total), lambda: throughput(host, socat_port, size, total)], rounds
    )
    where = f"[{host}]" if ":" in host else host
    p99 = {"lab_p99_ms": _pct(every[lab_port], 0.99) * 1e3, "socat_p99_ms": _pct(every[socat_port], 0.99) * 1e3}
    ref = "socat echo container, same path"
    rows = [
        Row(
            f"echo round trip p50, {_label(size)}, {where}",
            Series(p50_lab, "ms"),
            ref,
            Series(p50_socat, "ms"),
            P50_TARGET,
            note=f"p99 {p99['lab_p99_ms']:.3f} ms vs socat {p99['socat_p99_ms']:.3f} ms",
            detail=p99,
        ),
        Row(
            f"echo throughput, {_label(size)} writes, {where}",
            Series(tp_lab, "MB/s"),
            ref,
            Series(tp_socat, "MB/s"),
            THROUGHPUT_TARGET,
        ),
    ]
    return rows, {f"{_label(size)} {where}": {"lab": every[lab_port], "socat": every[socat_port]}}


def measure(lab_ports: dict[str, int], socat: Socat, rounds: int, quick: bool) -> tuple[list[Row], dict]:
    """Rows for every (size, address): p50 round trip (p99 beside it) and throughput, lab vs socat."""
    rows: list[Row] = []
    samples: dict[str, dict[str, list[float]]] = {}
    for host, lab_port in lab_ports.items():
        for size in SIZES:
            more, seen = _case(host, lab_port, socat.ports[host], size, rounds, quick)
            rows += more
            samples.update(seen)
    return rows, samples
