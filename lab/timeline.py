"""Where a command's time goes: named marks, appended as JSON lines to the file LAB_TIMINGS names.

`lab bench` sets it to a file to draw start-up timelines and split the cold path into phases; anyone can
set it to see where a slow `lab up` spends its time. `LAB_TIMINGS=1` (or true, yes, on) means "on, in the
usual place": `timings.jsonl` in lab's cache folder — never a file named `1` in the current directory.
Wall-clock seconds, so marks line up with `docker events`. Unset (or 0, false, no, off), a mark costs one
environment lookup.
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
    path = destination(os.environ.get("LAB_TIMINGS"))
    if path is None:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"t": time.time(), "event": event, **detail}) + "\n")


ON = ("1", "true", "yes", "on")
OFF = ("", "0", "false", "no", "off")


def destination(value: str | None) -> str | None:
    """The file LAB_TIMINGS' value names: None when off, lab's cache folder's `timings.jsonl` for a bare
    "on", else the path given."""
    if value is None or value.strip().lower() in OFF:
        return None
    if value.strip().lower() in ON:
        from lab.project import user_cache_home  # only when marks are written: not on every command's path

        folder = user_cache_home()
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / "timings.jsonl")
    return value


def read(path: str | os.PathLike) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
