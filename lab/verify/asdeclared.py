"""verify's `drift` checks: lab.drift's facts (what a running container no longer does as declared) as
one check per service."""

from __future__ import annotations

from typing import Any

from lab import drift
from lab.verify.checks import FAIL, PASS, Check


def check(config: dict[str, Any], project: str, listed: list | None = None) -> list[Check]:
    """One per declared service, failing where the live container differs (`listed`: the inventory)."""
    changed = drift.drifted(config, project, listed)
    return [
        Check(
            "drift", service, FAIL, f"changed behind lab's back: {'; '.join(changed[service])} (`lab up` puts it back)"
        )
        if service in changed
        else Check("drift", service, PASS, "as declared")
        for service in sorted(config.get("services") or {})
    ]
