"""Static audit: what compose will really do (`compose config`: override files and env count)."""

from __future__ import annotations

from pathlib import Path

from lab import composefile, rules
from lab.compose_cli import Compose
from lab.errors import ComposeFailed
from lab.stack import effective_config
from lab.verify.checks import FAIL, PASS, WARN, Check


def audit_config(config: dict, project: str) -> list[Check]:
    """`lab check`'s rule set as checks: high fails (what `lab up` refuses), anything milder warns."""
    return [
        Check(
            "static",
            f.target,
            PASS if f.ok else FAIL if f.severity == rules.HIGH else WARN,
            f.value if f.ok else f"{f.value} ({f.detail})" + ("" if f.severity == rules.HIGH else f" [{f.severity}]"),
        )
        for f in rules.audit(config, project)
    ]


def check(compose: Compose, root: Path) -> list[Check]:
    try:
        config = effective_config(compose)  # `lab up` asked compose already in this process: not again
    except (ComposeFailed, ValueError) as exc:
        return [Check("static", "compose config", FAIL, f"could not evaluate: {str(exc)[:160]}")]
    checks = audit_config(config, compose.project)
    drift = composefile.check(root)
    checks.append(
        Check(
            "static",
            "compose.yaml vs catalogue",
            FAIL if drift else PASS,
            "; ".join(f"{d.path.name} {d.reason}" for d in drift) + " (run `lab generate`)"
            if drift
            else "generated files match the catalogue",
        )
    )
    return checks
