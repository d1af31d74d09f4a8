"""Findings -> what people and tools read: text, JSON, SARIF 2.1.0 (GitHub code scanning), workflow
annotations. Every format gets every finding; suppressed ones and those a baseline accepts are
reported as such (JSON, SARIF) or counted (text), never silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

from lab import __version__, rules
from lab.check import Located, explain, relative

_SARIF_LEVEL = {rules.HIGH: "error", rules.MEDIUM: "warning", rules.LOW: "note"}
_SECURITY_SEVERITY = {rules.HIGH: "8.0", rules.MEDIUM: "5.0", rules.LOW: "2.0"}  # GitHub's bands
FINGERPRINT = "labFinding/v1"  # SARIF partialFingerprints key: rule, service and key, hashed


def _where(item: Located, base: Path) -> str:
    return f"{relative(item.place.file, base)}:{item.place.line}" if item.place else "(project)"


def text(found: list[Located], files: list[Path], base: Path, notes: list[str]) -> str:
    lines = []
    shown = [i for i in found if i.counts]
    for item in shown:
        f = item.finding
        lines.append(f"{_where(item, base)}: {f.severity} {f.rule} {f.line()}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    counts = {s: sum(i.finding.severity == s for i in shown) for s in reversed(rules.SEVERITIES)}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    quiet = sum(1 for i in found if i.suppressed), sum(1 for i in found if i.baseline == "unchanged")
    aside = [f"{quiet[0]} suppressed" if quiet[0] else "", f"{quiet[1]} in the baseline" if quiet[1] else ""]
    aside_text = f" ({', '.join(a for a in aside if a)}; --format json lists them)" if any(aside) else ""
    lines.append(f"lab check: {summary} in {', '.join(relative(f, base) for f in files)}{aside_text}")
    lines += [f"lab check: note: {n}" for n in notes]
    return "\n".join(lines)


def as_json(found: list[Located], files: list[Path], base: Path) -> str:
    doc = {"files": [relative(f, base) for f in files], "findings": [i.as_dict(base) for i in found]}
    return json.dumps(doc, indent=2)


def github(found: list[Located], base: Path) -> str:
    """`::error file=…,line=…,title=…::message` lines: GitHub shows them on the diff."""
    out = []
    for item in (i for i in found if i.counts):
        f = item.finding
        level = {rules.HIGH: "error", rules.MEDIUM: "warning"}.get(f.severity, "notice")
        where = f"file={relative(item.place.file, base)},line={item.place.line}," if item.place else ""
        msg = f"{f.line()}. Fix: {f.fix}".replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        out.append(f"::{level} {where}title={f.rule} {rules.BY_ID[f.rule].name}::{msg}")
    return "\n".join(out)


def _rule(r: rules.Rule) -> dict:
    refs = f" (see {', '.join(r.references)})" if r.references else ""
    entry = {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.summary},
        "help": {"text": f"{r.fix}{refs}", "markdown": explain.page(r.id)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        "properties": {"tags": ["security"], "security-severity": _SECURITY_SEVERITY[r.severity]},
    }
    help_uri = explain.uri(r.id)
    if help_uri:
        entry["helpUri"] = help_uri
    return entry


def _result(item: Located, index: dict[str, int], base: Path) -> dict:
    f = item.finding
    result = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.line()}. Fix: {f.fix}"},
        "partialFingerprints": {FINGERPRINT: f.fingerprint},
    }
    if item.place:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": relative(item.place.file, base), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": item.place.line},
                }
            }
        ]
    if item.suppressed:
        result["suppressions"] = [
            {"kind": item.suppressed.kind, "status": "accepted", "justification": item.suppressed.justification}
        ]
    if item.baseline:
        result["baselineState"] = item.baseline
    return result


def sarif(found: list[Located], base: Path) -> str:
    index = {r.id: i for i, r in enumerate(rules.RULES)}
    driver = {"name": "lab", "version": __version__, "rules": [_rule(r) for r in rules.RULES]}
    results = [_result(item, index, base) for item in found]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(doc, indent=2)
