"""Figures for projects lab did not write: `lab check` and `lab verify --project` on a generated project of
30+ services, next to the Compose command each builds on, measured in the same run."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from lab import harden, ports
from lab.bench.procs import lab_argv, timed
from lab.bench.stats import Row, Series, Target, rotate
from lab.compose_cli import Compose, find_compose

SERVICES = 32
CHECK_TARGET = Target("value", "<=", 1.0, "s")
VERIFY_TARGET = Target("value", "<=", 2.0, "s")


def compose_text(host_ports: list[int], third: str) -> str:
    """`SERVICES` services of lab's echo image, three ports each (TCP and UDP on loopback, and a third
    written as `third` says: "" for the short syntax people write, "127.0.0.1:" for loopback)."""
    lines = ["services:"]
    for i in range(SERVICES):
        a, b, c = host_ports[3 * i : 3 * i + 3]
        lines += [
            f"  s{i}:",
            "    image: lab/echo:local",
            f'    ports: ["127.0.0.1:{a}:65432", "127.0.0.1:{b}:65432/udp", "{third}{c}:8000"]',
        ]
    return "\n".join(lines) + "\n"


def check_row(rounds: int) -> Row:
    with tempfile.TemporaryDirectory(prefix="lab-bench-check-") as tmp:
        (Path(tmp) / "compose.yaml").write_text(compose_text(list(range(10000, 10000 + 3 * SERVICES)), ""))
        prefix = find_compose()[0]
        samples = rotate(
            [
                lambda: timed(lab_argv("check"), cwd=tmp, ok=(0, 1)).seconds,
                lambda: timed([*prefix, "config", "--format", "json"], cwd=tmp).seconds,
            ],
            rounds,
        )
    return Row(
        f"`lab check`, {SERVICES} services × 3 ports (whole command)",
        Series(samples[0], "s"),
        "compose config",
        Series(samples[1], "s"),
        CHECK_TARGET,
    )


def verify_row(rounds: int) -> Row:
    """A running project of `SERVICES` containers that lab did not start, loopback only (the bench
    measures the proof, not a leak)."""
    name = f"labbench-any-{secrets.token_hex(2)}"
    free = ports.pick_free(3 * SERVICES, ("tcp", "udp"), ("127.0.0.1",), 20000, 45000)
    with tempfile.TemporaryDirectory(prefix="lab-bench-any-") as tmp:
        (Path(tmp) / "compose.yaml").write_text(compose_text(free, "127.0.0.1:"))
        compose = Compose(find_compose()[0], name, [Path(tmp) / "compose.yaml"], cwd=Path(tmp))
        try:
            compose.run("up", "--detach", "--pull", "never", timeout=600)
            samples = rotate(
                [
                    lambda: timed(lab_argv("verify", "--project", name), ok=(0, 1)).seconds,
                    lambda: timed(compose.argv("ps", "--format", "json"), cwd=tmp).seconds,
                ],
                rounds,
            )
        finally:
            compose.run("down", "--timeout", "5", timeout=600)
            if not harden.can_harden():
                harden.remove(name)
    return Row(
        f"`lab verify --project`, {SERVICES} services lab did not start (whole command)",
        Series(samples[0], "s"),
        "compose ps",
        Series(samples[1], "s"),
        VERIFY_TARGET,
        note="every published port probed; the neighbour probe tries every container address and port",
    )
