"""Static audit: what compose will really do (`compose config`: override files and env count)."""

from __future__ import annotations

from pathlib import Path

from lab import composefile, rules
from lab.resolve import Unknown
from lab.verify.checks import FAIL, PASS, SKIP, WARN, Check


def audit_config(config: dict, project: str) -> list[Check]:
    """`lab check`'s rule set as checks: high fails (what `lab up` refuses), medium warns. Low findings
    (hardening gaps such as no `cap_drop: [ALL]`, on nearly every service of a foreign project) are left
    to `lab check`, where they can be listed and filtered: here they would bury the exposure rows."""
    return [
        Check(
            "static",
            f.target,
            PASS if f.safe else FAIL if f.severity == rules.HIGH else WARN,
            f.value if f.safe else f"{f.value} ({f.detail})" + ("" if f.severity == rules.HIGH else f" [{f.severity}]"),
        )
        for f in rules.audit(config, project)
        if f.safe or f.severity != rules.LOW
    ]


def unknown(why: Unknown) -> Check:
    """No configuration to audit: files no longer at hand are a skip with the reason, never a pass."""
    return Check("static", why.target, SKIP if why.missing else FAIL, why.reason)


def generated(root: Path) -> Check:
    """lab's own files against the catalogue they are generated from."""
    drift = composefile.check(root)
    return Check(
        "static",
        "compose.yaml vs catalogue",
        FAIL if drift else PASS,
        "; ".join(f"{d.path.name} {d.reason}" for d in drift) + " (run `lab generate`)"
        if drift
        else "generated files match the catalogue",
    )


def check(project: str, config: dict | Unknown, generated_from: Path | None = None) -> list[Check]:
    """`generated_from`: lab's own project's folder, whose files must match the catalogue."""
    checks = [unknown(config)] if isinstance(config, Unknown) else audit_config(config, project)
    if generated_from is not None and not isinstance(config, Unknown):
        checks.append(generated(generated_from))
    return checks
