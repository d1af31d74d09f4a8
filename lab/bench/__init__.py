"""`lab bench`: every speed and size figure of lab next to its reference, measured in the same run.

One throwaway project (`labbench`, its own free ports, a temporary state home) is brought up, measured
and removed with its volumes. Nothing here asserts a time: it prints figures, ratios and targets.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab import engine, ports, stack
from lab import project as projects
from lab.bench import anyproject, api, cold, echo, footprint, plots, report
from lab.bench.procs import lab_argv, timed
from lab.bench.startup import Bench
from lab.bench.stats import Row
from lab.catalogue import SERVICES
from lab.compose_cli import PROJECT_LABEL

PROJECT = "labbench"


@dataclass
class Options:
    quick: bool = False
    cold: bool = False
    docs: Path | None = None  # where benchmarks.md and the plots go (None: not written)


def say(msg: str) -> None:
    print(f"lab bench: {msg}", file=sys.stderr, flush=True)


def _leftovers() -> None:
    """A killed bench leaves its project behind: it is the bench's own, so it goes (saying so)."""
    client = engine.client()
    label = f"{PROJECT_LABEL}={PROJECT}"
    found = client.containers.list(all=True, filters={"label": label}, ignore_removed=True)
    vols = client.volumes.list(filters={"label": label})
    if not found and not vols:
        return
    say(f"removing {len(found)} containers and {len(vols)} volumes an earlier bench left")
    for c in found:
        c.remove(force=True)
    for n in client.networks.list(filters={"label": label}):
        n.remove()
    for v in vols:
        v.remove(force=True)


def run(opts: Options, root: Path) -> tuple[list[Row], dict]:
    rounds = 3 if opts.quick else 5
    meta = {
        "command": "python -m lab bench" + (" --cold" if opts.cold else "") + (" --quick" if opts.quick else ""),
        "date": report.now(),
        "rounds": rounds,
        "machine": report.machine(),
        "commit": subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }
    _leftovers()
    if opts.cold:
        for line in cold.clear(root):
            say(f"removed {line}")
    state = tempfile.mkdtemp(prefix="lab-bench-state-")
    os.environ["LAB_STATE_HOME"] = state  # the bench's projects never touch the user's state
    env = {"LAB_STATE_HOME": state}
    project = projects.load(PROJECT)
    chosen = ports.pick_free(len(SERVICES), ("tcp", "udp"), project.hosts, 20000, 45000)
    project.ports = {s.name: p for s, p in zip(SERVICES, chosen, strict=True)}
    flags = [f"--port={s}={p}" for s, p in project.ports.items()]
    rows: list[Row] = []
    bench: Bench | None = None
    samples: dict = {}
    try:
        if opts.cold:
            say("cold start: a fresh clone's `make up` (this takes minutes)")
            row, _ = cold.cold_up(root, PROJECT, flags, env)
            rows.append(row)
        else:
            rows.append(
                Row(
                    "cold `make up`: fresh clone, no lab image or build cache",
                    target=cold.COLD,
                    skip="not measured: run `lab bench --cold`",
                )
            )
        say("first start of the bench project (not timed)")
        timed(lab_argv("up", "--no-verify", "--project", PROJECT, *flags), env=env)
        project = projects.load(PROJECT)
        bench = Bench(project, env)
        say(f"warm starts: {rounds} rounds of lab ×3 and compose, rotated")
        rows += bench.warm(rounds)
        say("the running stack: lab up, lab verify")
        rows += bench.running(rounds)
        rows.append(footprint.idle_memory(PROJECT))
        say("echo vs socat")
        echo_rows, samples = _echo(project, rounds, opts.quick)
        rows += echo_rows
        say("api under wrk")
        rows += api.rows(project, quick=opts.quick)
        rows.append(footprint.images_row())
        say(f"projects lab did not write: lab check and lab verify on {anyproject.SERVICES} services")
        rows += [anyproject.check_row(rounds), anyproject.verify_row(rounds)]
    finally:
        with contextlib.suppress(Exception):
            stack.down(projects.load(PROJECT), volumes=True)
    meta["method"] = METHOD
    if opts.docs and bench is not None:
        _docs(rows, meta, bench, samples, opts.docs)
    return rows, meta


def _echo(project: projects.Project, rounds: int, quick: bool) -> tuple[list[Row], dict]:
    from lab import inventory

    network = inventory.networks(PROJECT)[0].name
    socat = echo.Socat.start(network, list(project.hosts))
    try:
        lab_ports = {h: project.ports["echo"] for h in project.hosts}
        return echo.measure(lab_ports, socat, rounds, quick)
    finally:
        socat.stop()


def _docs(rows: list[Row], meta: dict, bench: Bench, samples: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    why = plots.available()
    if why:
        say(f"plots: skip ({why})")
    else:
        t = bench.timelines()
        if t.lab and t.compose:
            written.append(plots.startup(t.lab, t.compose, out.parent / "bench-startup.png"))
        if samples:
            written.append(plots.latency(samples, out.parent / "bench-echo-latency.png"))
    out.write_text(report.markdown(rows, meta, written, out))
    say(f"wrote {out}" + "".join(f", {p}" for p in written))


METHOD = [
    "Warm start: the project's containers removed (network and volumes kept, so lab's raw-table rule stays "
    "in place for compose's runs too), then the command, timed from outside until it returns; lab returns "
    "once every endpoint answered its real protocol probe, compose once every healthcheck passed.",
    "`lab up` on a running stack and `lab verify`: the whole command as a user runs it (interpreter start "
    "included), next to a compose command on the same project.",
    "Echo: one TCP connection per measurement through the published port (docker-proxy), 64 B and 64 KiB "
    "round trips timed one by one, and a stream of writes of that size read back by a second thread; the "
    "reference is a socat echo container (`socat TCP-LISTEN:…,fork EXEC:cat`) on the project's network, locked "
    "down the same way and published the same way.",
    "API: wrk, 64 connections, on 127.0.0.1, against the API and a bare ASGI hello in the same image.",
    "Images on disk: the unique bytes of lab's images and their base, a layer shared by two images once.",
    "Idle memory: each container's usage less its inactive page cache, a few seconds after start.",
    "Any project: a generated compose file of 32 services of lab's echo image, three ports each; `lab check` "
    "next to the `compose config` it builds on, and `lab verify --project` on that project started with plain "
    "Compose (loopback only) next to `compose ps`.",
]
