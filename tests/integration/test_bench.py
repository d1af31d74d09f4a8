"""lab bench's parts on a real stack, and the running-stack fast path its figures rely on."""

from __future__ import annotations

import pytest

from lab import engine, inventory, stack
from lab.bench import echo, footprint
from lab.catalogue import SERVICES
from lab.images import LOCAL_BASE, OFFICIAL_BASE

pytestmark = pytest.mark.integration


def _ids(project: str) -> dict[str, str]:
    return {c.service: c.id for c in inventory.states(project)}


def test_up_on_an_unchanged_running_stack_starts_nothing(lab_stack, capsys):
    p = lab_stack.project
    # As this run left it: a test elsewhere (test_stack's rebuild, in a process beside this one) may have
    # replaced one of lab's images since the session's stack started, and that is a change to apply.
    stack.up(p, timeout=120)
    capsys.readouterr()
    before = _ids(p.name)
    stack.up(p, timeout=120)
    assert "nothing to start" in capsys.readouterr().err
    assert _ids(p.name) == before


def test_a_stopped_container_is_started_again_not_skipped(lab_stack, capsys):
    """The positive control of the fast path: what compose would change, lab does not skip."""
    p = lab_stack.project
    name = next(c.name for c in inventory.states(p.name) if c.service == "redis")
    engine.client().containers.get(name).stop(timeout=5)
    stack.up(p, timeout=120)
    assert "nothing to start" not in capsys.readouterr().err
    assert {c.service: c.state for c in inventory.states(p.name)}["redis"] == "running"


def test_echo_and_socat_are_measured_on_both_paths(lab_stack):
    p = lab_stack.project
    socat = echo.Socat.start(inventory.networks(p.name)[0].name, list(p.hosts))
    try:
        rows, samples = echo.measure({h: p.ports["echo"] for h in p.hosts}, socat, rounds=1, quick=True)
    finally:
        socat.stop()
    assert len(rows) == 4 * len(p.hosts)  # (p50, throughput) x (64 B, 64 KiB) per address
    for row in rows:
        assert row.lab.median > 0 and row.reference.median > 0 and row.verdict() in ("met", "NOT MET")
    assert all(len(s["lab"]) >= 100 and len(s["socat"]) >= 100 for s in samples.values())
    assert not engine.client().containers.list(all=True, filters={"label": "lab.bench=socat"})


def test_images_count_a_shared_layer_once(lab_stack):
    total, own = footprint.image_bytes()
    client = engine.client()
    sizes = {s.image: client.images.get(s.image).attrs["Size"] for s in SERVICES}
    assert total < sum(sizes.values())  # the base under all four is counted once

    def layers(image):  # a layer as footprint knows it: its history entry
        return {(e.get("CreatedBy"), e.get("Created"), e.get("Size")): e.get("Size", 0)
                for e in client.images.get(image).history()}  # fmt: skip

    # api's own share leaves out every layer an image counted before it holds: the base's, and echo's python
    # layer where the builder reused it (BuildKit does; Podman's builder, building both at once, may not)
    api, before = layers("lab/api:local"), {}
    for image in [b for b in (LOCAL_BASE, OFFICIAL_BASE) if engine.image_id(b)][:1] + ["lab/echo:local"]:
        before |= layers(image)
    shared = sum(size for key, size in api.items() if key in before)
    assert shared > 0 and own["lab/api:local"] <= sizes["lab/api:local"] - shared
