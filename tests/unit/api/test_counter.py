"""The API's coalescing hit counter (services/api/app/counter.py), against a fake INCRBY."""
import asyncio
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "api_counter", Path(__file__).resolve().parents[3] / "services/api/app/counter.py")
counter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(counter)


class Store:
    def __init__(self, fail=False):
        self.value, self.calls, self.fail = 0, [], fail

    async def incrby(self, n):
        self.calls.append(n)
        await asyncio.sleep(0.01)  # a round trip
        if self.fail:
            raise ConnectionError("redis down")
        self.value += n
        return self.value


def test_concurrent_callers_share_round_trips_and_get_distinct_values():
    async def go():
        store = Store()
        c = counter.CoalescingCounter(store.incrby)
        values = await asyncio.gather(*(c.incr() for _ in range(100)))
        return store, values
    store, values = asyncio.run(go())
    assert sorted(values) == list(range(1, 101)) and values == sorted(values)
    assert sum(store.calls) == 100 and len(store.calls) < 10


def test_a_lone_caller_is_one_round_trip():
    async def go():
        store = Store()
        c = counter.CoalescingCounter(store.incrby)
        return [await c.incr(), await c.incr()], store.calls
    assert asyncio.run(go()) == ([1, 2], [1, 1])


def test_a_failure_reaches_every_caller_of_the_batch_and_the_next_batch_still_runs():
    async def go():
        store = Store(fail=True)
        c = counter.CoalescingCounter(store.incrby)
        results = await asyncio.gather(*(c.incr() for _ in range(5)), return_exceptions=True)
        store.fail = False
        return results, await c.incr()
    results, after = asyncio.run(go())
    assert all(isinstance(r, ConnectionError) for r in results) and after == 1
