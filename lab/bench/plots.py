"""PNG plots (matplotlib): start-up timelines, lab vs compose per service, and echo latency distributions."""

from __future__ import annotations

from pathlib import Path

from lab.bench.procs import Run
from lab.bench.startup import per_service, phases
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
    """One lane per service and tool: from the container's start to its first full answer (lab: its
    probes; compose: healthy), with lab's phases as ticks and each command's end as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    names = [s.name for s in SERVICES]
    for offset, (run, label, colour, key) in enumerate(
        [(lab, "lab up --no-verify", "tab:blue", "ready"), (compose, "compose up -d --wait", "tab:orange", "healthy")]
    ):
        spans = per_service(run)
        for i, svc in enumerate(names):
            y = i * 3 + offset
            s = spans.get(svc, {})
            if "start" in s and key in s:
                ax.barh(
                    y, s[key] - s["start"], left=s["start"], color=colour, height=0.8, label=label if i == 0 else None
                )
                ax.plot([0, s["start"]], [y, y], color=colour, lw=1, ls=":")
        ax.axvline(run.seconds, color=colour, ls="--", lw=1)
        ax.text(run.seconds, len(names) * 3 - 0.6, f" {run.seconds:.2f} s", color=colour, fontsize=8)
    for k, (name, t) in enumerate(phases(lab)):  # lab's phases, labels staggered: several are ms apart
        ax.plot([t, t], [-1.2, -0.8], color="tab:blue", lw=1)
        ax.text(t, -1.5 - 0.55 * (k % 3), name, fontsize=7, ha="center", va="top", color="tab:blue")
    ax.set_yticks([i * 3 + 0.5 for i in range(len(names))], names)
    ax.set_ylim(-3.4, len(names) * 3)
    ax.set_xlabel("seconds from the command's start (bar: container started → answering; dashed: command returned)")
    ax.set_title("Warm start, stack down → every service answering (median runs)")
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
