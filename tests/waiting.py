"""The suite's one bounded wait: poll a condition until it holds. The bound only catches a hang (a test
never waits a fixed time for something to happen); past it, the test fails naming what it waited for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    bound: float,
    what: str | Callable[[], str],
    *,
    interval: float = 0.05,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """The condition's first truthy value, asked every `interval` s for at most `bound` s. An exception of a
    `tolerate` type counts as "not yet" (a service coming back refuses connections first) and the last one
    is named if the bound passes. `what` may be a function, asked then: what was last seen."""
    deadline = time.monotonic() + bound
    last: BaseException | None = None
    while True:
        try:
            value = condition()
        except tolerate as exc:
            value, last = None, exc
        if value:
            return value
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            pytest.fail(f"not within {bound:.0f} s: {said}" + (f" (last error: {last})" if last else ""))
        time.sleep(interval)
