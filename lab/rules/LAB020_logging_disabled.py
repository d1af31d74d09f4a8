"""`logging: {driver: none}`: the container's output goes nowhere, so after an incident there is
nothing to read (`docker compose logs` shows nothing either)."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB020",
    "logging-disabled",
    LOW,
    "`logging.driver: none`",
    "drop `driver: none` (the default json-file keeps logs); bound them with `options: {max-size: 10m}`",
    ("compose-lint CL-0014", "CIS Docker Benchmark 2.12"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        driver = (svc.get("logging") or {}).get("driver")
        if isinstance(driver, str) and driver.strip().lower() == "none":
            yield Finding(
                RULE.id,
                LOW,
                name,
                "logging.driver",
                "none",
                "nothing it prints is kept",
                RULE.fix,
                anchor=("services", name, "logging", "driver"),
            )
