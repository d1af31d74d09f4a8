"""A service with no memory limit or no CPU limit: a leak or a busy loop takes the whole laptop (the
desktop, the browser, the other projects) until the kernel's OOM killer picks something.

Compose gives `mem_limit`/`deploy.resources.limits.memory` in bytes and `cpus` as a number in the
effective config; 0 means unlimited, so it counts as unset. `cpu_quota` bounds CPU too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB028",
    "no-resource-limits",
    LOW,
    "a service with no memory limit or no CPU limit",
    "set both: `mem_limit: 512m` and `cpus: 1.0` (or `deploy.resources.limits`); size them from what it uses",
    ("compose-lint CL-0026", "CIS Docker Benchmark 5.10, 5.11"),
)


def positive(value: Any) -> bool:
    """A limit that bounds something; a value that is not a number (an unset ${VAR}) gets the benefit."""
    if value is None or isinstance(value, bool) or value == "":
        return False
    try:
        return float(str(value).strip().rstrip("bBkKmMgGiI") or 0) > 0
    except ValueError:
        return True


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        memory = positive(svc.get("mem_limit")) or positive(limits.get("memory"))
        cpu = positive(svc.get("cpus")) or positive(svc.get("cpu_quota")) or positive(limits.get("cpus"))
        if memory and cpu:
            continue
        missing = "no CPU limit" if memory else "no memory limit" if cpu else "no memory limit and no CPU limit"
        yield Finding(
            RULE.id,
            LOW,
            name,
            "mem_limit" if not memory else "cpus",
            missing,
            "it can take the host's memory or CPU",
            RULE.fix,
            anchor=("services", name, "mem_limit" if not memory else "cpus"),
        )
