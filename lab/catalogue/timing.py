"""Small shared helpers for probes."""

from __future__ import annotations

import time


def elapsed_ms(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.1f} ms"
