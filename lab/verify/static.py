"""Static audit: what compose will really do (`compose config`: override files and env count)."""

from __future__ import annotations

from pathlib import Path

from lab import composefile, rules
from lab.compose_cli import Compose
from lab.errors import ComposeFailed
from lab.stack import effective_config
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


def own_config(compose: Compose) -> dict | Check:
    """lab's own project: what compose will really do — or the check that says it could not be evaluated."""
    try:
        return effective_config(compose)  # `lab up` asked compose already in this process: not again
    except (ComposeFailed, ValueError) as exc:
        return Check("static", "compose config", FAIL, f"could not evaluate: {str(exc)[:160]}")


def check(compose: Compose, root: Path, config: dict | Check | None = None) -> list[Check]:
    """`config`: `own_config(compose)`, when the caller has it already."""
    config = own_config(compose) if config is None else config
    if isinstance(config, Check):
        return [config]
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


def foreign_config(project: str, files: list[str], directory: str | None) -> dict | Check:
    """A project lab did not start: the effective config of the files Compose labelled its containers
    with, read as `lab check` reads them — or the check that says why there is none (files no longer at
    hand are a skip with the reason, not a pass)."""
    from lab.check import load
    from lab.errors import LabError

    if not files:
        return Check("static", "compose files", SKIP, "the containers name no compose files")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        return Check("static", "compose files", SKIP, f"not on this host any more: {missing[0]}")
    try:
        return load.load([Path(f) for f in files], Path(directory) if directory else None, project_name=project).config
    except LabError as exc:
        return Check("static", "compose config", FAIL, f"could not evaluate: {str(exc)[:160]}")


def check_foreign(project: str, config: dict | Check) -> list[Check]:
    return [config] if isinstance(config, Check) else audit_config(config, project)
