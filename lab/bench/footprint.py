"""What the stack costs at rest: idle memory per container and the images' unique bytes on disk."""

from __future__ import annotations

import time

from lab import engine
from lab.bench.stats import Row, Series, Target
from lab.catalogue import SERVICES
from lab.compose_cli import PROJECT_LABEL
from lab.images import LOCAL_BASE, OFFICIAL_BASE

IMAGES_TARGET = Target("value", "<=", 280, "MB")


def image_bytes() -> tuple[int, dict[str, int]]:
    """Unique bytes of lab's images (base included), each shared layer counted once, and each image's own
    share. A layer is known by its history entry (instruction, creation time, size): two images built
    from the same cached step (the python layer of echo and api, the base) carry the identical entry."""
    client = engine.client()
    base = [b for b in (OFFICIAL_BASE, LOCAL_BASE) if engine.image_id(b)][:1]
    names = base + [s.image for s in SERVICES]  # the base first: each image's own share is what it adds
    seen: dict[tuple, int] = {}
    own: dict[str, int] = {}
    for name in names:
        if not engine.image_id(name):
            continue
        for entry in client.images.get(name).history():
            key = (entry.get("CreatedBy"), entry.get("Created"), entry.get("Size"))
            if key not in seen:
                seen[key] = entry.get("Size", 0)
                own[name] = own.get(name, 0) + entry.get("Size", 0)
    return sum(seen.values()), own


def images_row() -> Row:
    total, own = image_bytes()
    detail = {name: round(size / 1e6, 1) for name, size in own.items()}
    return Row(
        "images on disk (shared layers once)",
        Series([total / 1e6], "MB"),
        target=IMAGES_TARGET,
        note=", ".join(f"{k.split(':')[0]} +{v:.0f}" for k, v in detail.items()),
        detail={"own_mb": detail},
    )


def idle_memory(project: str, settle: float = 3.0) -> Row:
    """Each container's memory less its reclaimable page cache (what `docker stats` shows), at rest."""
    time.sleep(settle)
    client = engine.client()
    per: dict[str, float] = {}
    for c in client.containers.list(filters={"label": f"{PROJECT_LABEL}={project}"}):
        stats = c.stats(stream=False).get("memory_stats", {})
        inner = stats.get("stats", {})
        cache = inner.get("total_inactive_file", inner.get("inactive_file", 0))
        per[c.labels.get("com.docker.compose.service", c.name)] = (stats.get("usage", 0) - cache) / 2**20
    return Row(
        "idle memory of the stack",
        Series([sum(per.values())], "MiB"),
        note=", ".join(f"{k} {v:.0f}" for k, v in sorted(per.items())),
        detail={"per_service_mib": {k: round(v, 1) for k, v in per.items()}},
    )
