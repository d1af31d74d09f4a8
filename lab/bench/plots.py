"""PNG plots (matplotlib): start-up timelines, lab vs compose per service, and echo latency distributions."""

from __future__ import annotations

from pathlib import Path

from lab.bench.procs import Run
from lab.bench.startup import SPANS, per_service, spans
from lab.catalogue import SERVICES


def available() -> str:
    """'' when matplotlib is importable, else why not (the bench then says "plots: skip")."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed: `make bench`, or pip install -e '.[bench]'"
    return ""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def startup(lab: Run, compose: Run, path: Path) -> Path:
    """Where the time of a warm start goes, on one axis. Top: lab's phases as spans (verify begins once
    the containers run and overlaps the wait). Below, one lane per service and tool: from the container's
    start to its first full answer (lab: its probes; compose: healthy); dashed, each command's end."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.2))
    names = [s.name for s in SERVICES]
    for offset, (run, label, colour, key) in enumerate(
        [
            (lab, "lab up (verify included)", "tab:blue", "ready"),
            (compose, "compose up -d --wait", "tab:orange", "healthy"),
        ]
    ):
        lanes = per_service(run)
        for i, svc in enumerate(names):
            y = i * 3 + offset
            s = lanes.get(svc, {})
            if "start" in s and key in s:
                ax.barh(
                    y, s[key] - s["start"], left=s["start"], color=colour, height=0.8, label=label if i == 0 else None
                )
                ax.plot([0, s["start"]], [y, y], color=colour, lw=1, ls=":")
        ax.axvline(run.seconds, color=colour, ls="--", lw=1)
        ax.text(run.seconds, len(names) * 3 + len(SPANS) - 0.4, f" {run.seconds:.2f} s", color=colour, fontsize=8)
    top = len(names) * 3
    rows = {label: top + k for k, (label, _, _) in enumerate(SPANS)}
    for label, begin, end in spans(lab):
        ax.barh(rows[label], max(end - begin, 0.01), left=begin, color="tab:green", height=0.7)
        ax.text(end, rows[label], f" {end - begin:.2f} s", fontsize=7, va="center")
    ax.set_yticks(
        [i * 3 + 0.5 for i in range(len(names))] + list(rows.values()),
        names + [f"lab: {label}" for label in rows],
        fontsize=8,
    )
    ax.set_ylim(-1, top + len(SPANS))
    ax.set_xlabel("seconds from the command's start (bar: container started → answering; dashed: command returned)")
    ax.set_title("Warm start, stack down → every service answering, proof included (median runs)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency(samples: dict[str, dict[str, list[float]]], path: Path) -> Path:
    """Round-trip time distributions (ms, log scale) per size and address: lab's echo vs socat's."""
    plt = _pyplot()
    keys = list(samples)
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        data = [[v * 1e3 for v in samples[key]["lab"]], [v * 1e3 for v in samples[key]["socat"]]]
        ax.boxplot(data, whis=(1, 99), showfliers=False)
        ax.set_xticks([1, 2], ["lab echo", "socat"])
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter("{x:.2f}")
        ax.yaxis.set_minor_formatter("{x:.2f}")
        ax.tick_params(axis="y", which="both", labelsize=7)
        ax.set_title(key, fontsize=9)
        ax.set_ylabel("round trip, ms (box: p25–p75, whiskers: p1–p99)", fontsize=7)
    fig.suptitle("Echo round trips through docker-proxy on loopback", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
