"""Where a command's time goes: named marks, appended as JSON lines to the file LAB_TIMINGS names.

`lab bench` sets it to draw start-up timelines and split the cold path into phases; anyone can set it to
see where a slow `lab up` spends its time. Wall-clock seconds, so marks line up with `docker events`.
Unset, a mark costs one environment lookup.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

_LISTENERS: list[Callable[[str, dict], None]] = []


def listen(callback: Callable[[str, dict], None]) -> Callable[[], None]:
    """Have `callback(event, detail)` called on every mark (the progress view); returns the undo."""
    _LISTENERS.append(callback)
    return lambda: _LISTENERS.remove(callback)


def mark(event: str, **detail: object) -> None:
    for callback in list(_LISTENERS):
        callback(event, detail)
    path = os.environ.get("LAB_TIMINGS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"t": time.time(), "event": event, **detail}) + "\n")


def read(path: str | os.PathLike) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
