"""Names of a project's containers, from the engine (labels compose sets)."""

from __future__ import annotations

from lab import engine


def container_names(project: str) -> list[str]:
    found = engine.client().containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    return sorted(c.name for c in found)
