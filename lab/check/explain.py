"""A rule's page: `lab check --explain LABnnn`, and SARIF's help for the rule.

The pages are docs/rules/LABnnn.md, read there in a checkout; the wheel carries a copy as
`lab/rules/pages` (setup.py), so an installed lab finds them too. A rule without a page is explained from its own
metadata (what it flags, its severity, the fix, its references): never nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lab import DISTRIBUTION, rules
from lab.errors import UsageError

PAGES = Path(rules.__file__).parent / "pages"  # in a wheel
_CHECKOUT = Path(rules.__file__).resolve().parents[2] / "docs" / "rules"  # in a checkout


def rule(rule_id: str) -> rules.Rule:
    found = rules.BY_ID.get(rule_id.upper())
    if found is None:
        raise UsageError(f"unknown rule {rule_id}", "`lab check --rules` lists them")
    return found


def page_path(rule_id: str) -> Path | None:
    for folder in (PAGES, _CHECKOUT):
        path = folder / f"{rule_id}.md"
        if path.is_file():
            return path
    return None


def page(rule_id: str) -> str:
    """The rule's page, or what its metadata says when it has none."""
    r = rule(rule_id)
    path = page_path(r.id)
    if path is not None:
        return path.read_text()
    lines = [f"# {r.id} {r.name}", "", f"Severity: {r.severity}.", "", f"Flags {r.summary}.", "", f"Fix: {r.fix}"]
    if r.fixable:
        lines += ["", "`lab fix` repairs it."]
    if r.references:
        lines += ["", "References: " + "; ".join(r.references) + "."]
    return "\n".join(lines) + "\n"


@functools.cache
def _repository() -> str | None:
    """The project's repository, when its metadata names one (`[project.urls] Repository = …`)."""
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("repository", "source", "homepage") and url.strip().startswith("https://"):
            return url.strip().rstrip("/")
    return None


def uri(rule_id: str) -> str | None:
    """SARIF's helpUri: the page in the repository (when the metadata names it), else the page shipped
    with lab (a file URI); None when there is no page."""
    repository = _repository()
    if repository:
        return f"{repository}/blob/main/docs/rules/{rule_id}.md"
    path = page_path(rule_id)
    return path.resolve().as_uri() if path else None
