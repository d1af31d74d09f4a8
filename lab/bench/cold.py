"""The cold path: a fresh clone's `make up` on an engine without lab's images or build cache."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from lab import engine
from lab.bench.echo import SOCAT_IMAGE
from lab.bench.procs import Run, timed
from lab.bench.stats import Row, Series, Target
from lab.catalogue import SERVICES
from lab.compose_cli import PROJECT_LABEL
from lab.errors import UsageError
from lab.images import LOCAL_BASE
from lab.project import cache_home

COLD = Target("value", "<=", 75, "s")  # issue 18: a new user's first `make up`


def lab_images() -> list[str]:
    return [s.image for s in SERVICES] + [LOCAL_BASE, SOCAT_IMAGE]


def _steps(root: Path) -> list[str]:
    """The RUN commands of lab's Dockerfiles, whitespace squeezed, as BuildKit describes their cache."""
    found = []
    for dockerfile in sorted(root.glob("services/*/Dockerfile")):
        text = dockerfile.read_text().replace("\\\n", " ")
        for match in re.finditer(r"^RUN (?:--mount=\S+\s+)*(.+)$", text, re.M):
            found.append(" ".join(match.group(1).split())[:60])
    return found


def clear(root: Path) -> list[str]:
    """Remove lab's images, the build-cache records of lab's Dockerfile steps and lab's image record.
    Refused while any container uses one of those images. Returns what was removed, for the report."""
    client = engine.client()
    images = [name for name in lab_images() if engine.image_id(name)]
    ids = {engine.image_id(name) for name in images}
    every = client.containers.list(all=True, ignore_removed=True)
    users = sorted({c.labels.get(PROJECT_LABEL, c.name) for c in every if c.image.id in ids})
    if users:
        raise UsageError(
            f"--cold removes lab's images, and project(s) {', '.join(users)} still have containers on them",
            "take them down first: lab down --project NAME",
        )
    announce(root)
    steps = _steps(root)
    cache = [
        b["ID"]
        for b in client.df().get("BuildCache") or []
        if not b.get("InUse") and any(s in " ".join((b.get("Description") or "").split()) for s in steps)
    ]
    for name in images:
        client.images.remove(name, force=False)
    for record in cache:
        client.api.prune_builds(filters={"id": [record]})
    (cache_home() / "images.json").unlink(missing_ok=True)
    return [f"{len(images)} images ({', '.join(images)})", f"{len(cache)} build-cache records of lab's steps"]


def announce(root: Path) -> None:
    print(
        "lab bench --cold: removing lab's own images (" + ", ".join(lab_images()) + "), the build-cache records of "
        f"the RUN steps in {root}/services/*/Dockerfile, and {cache_home() / 'images.json'}; nothing else",
        file=sys.stderr,
        flush=True,
    )


def cold_up(root: Path, project: str, port_flags: list[str], env: dict[str, str]) -> tuple[Row, Run]:
    """`make up` in a fresh clone of this repository's HEAD: venv, Compose check, base, builds, start, verify."""
    with tempfile.TemporaryDirectory(prefix="lab-cold-") as tmp:
        clone = Path(tmp) / "lab"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(root), str(clone)], check=True)
        argv = ["make", "-C", str(clone), "up", f"PROJECT={project}", f"UP_FLAGS={' '.join(port_flags)}"]
        run = timed(argv, env=env, project=project)
    note, marks = summary(run.marks, run.seconds, run.started)
    row = Row(
        "cold `make up`: fresh clone, no lab image or build cache",
        Series([run.seconds], "s"),
        target=COLD,
        note=note + "; pip's own download cache is this machine's",
        detail={"marks": marks},
    )
    return row, run


def summary(marks: list[dict], seconds: float, started: float = 0.0) -> tuple[str, dict]:
    """Where a cold `make up` went, from lab's own marks (seconds from the command's start)."""
    rel = [(m["event"], m.get("service"), m["t"] - started) for m in marks]
    first = {}
    for event, _, t in rel:
        first.setdefault(event, t)
    built = {svc: t for event, svc, t in rel if event == "built"}
    phases = {
        "setup (venv, pip, Compose)": first.get("audit", 0.0),
        "base bootstrap": first.get("build", first.get("create", 0.0))
        - first.get("bootstrap", first.get("build", 0.0)),
        "image builds, in parallel": max(built.values(), default=0.0) - first.get("build", 0.0),
        "start until every service answers": first.get("up", seconds) - first.get("create", 0.0),
    }
    slowest = max(built, key=built.get) if built else "-"
    note = ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()) + f" (slowest build: {slowest})"
    marks = {"phases_s": {k: round(v, 1) for k, v in phases.items()}, "built_s": built}
    return note, marks
