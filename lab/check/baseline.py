"""`lab check --baseline FILE`: today's findings accepted, only new ones fail.

A finding is known by its fingerprint (rule, service, key: `LAB001 web tcp/8080->80`), never by its
line, so editing the file above it does not make it new. The file is JSON people can read and diff;
`--write-baseline FILE` writes it from the findings of this run (suppressed ones are not in it: they
carry their own reasons).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import UsageError

if TYPE_CHECKING:
    from lab.check import Located

FORMAT = "lab-check-baseline/1"


class NotABaseline(UsageError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"--baseline {path}: {problem}", "write one with `lab check --write-baseline FILE`")


def write(path: Path, found: list[Located]) -> int:
    entries = sorted(
        (
            {"fingerprint": i.finding.fingerprint, "rule": i.finding.rule, "service": i.finding.service or None}
            | {"key": i.finding.key}
            for i in found
            if not i.suppressed
        ),
        key=lambda e: (e["rule"], e["service"] or "", e["key"]),
    )
    path.write_text(json.dumps({"format": FORMAT, "findings": entries}, indent=2) + "\n")
    return len(entries)


def read(path: Path) -> Counter[str]:
    """The fingerprints a baseline accepts, each as many times as it was found."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotABaseline(path, "no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NotABaseline(path, f"not a lab baseline (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise NotABaseline(path, f'not a lab baseline (no "format": "{FORMAT}" and "findings" list)')
    prints = [e.get("fingerprint") if isinstance(e, dict) else None for e in doc["findings"]]
    if not all(isinstance(p, str) and p for p in prints):
        raise NotABaseline(path, "not a lab baseline (a finding without its fingerprint)")
    return Counter(prints)


def mark(found: list[Located], accepted: Counter[str], notes: list[str]) -> list[Located]:
    """Each finding marked "unchanged" (in the baseline) or "new"; what the baseline holds that is no
    longer found is a note (fixed: a new baseline drops it)."""
    left = Counter(accepted)
    out = []
    for item in found:
        if item.suppressed:
            out.append(item)
            continue
        fp = item.finding.fingerprint
        state = "unchanged" if left[fp] > 0 else "new"
        left[fp] -= state == "unchanged"
        out.append(replace(item, baseline=state))
    gone = sum(n for n in left.values() if n > 0)
    if gone:
        notes.append(f"{gone} finding(s) of the baseline no longer found (fixed?): --write-baseline FILE drops them")
    return out
