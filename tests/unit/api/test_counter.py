"""The API's coalescing round trips (services/api/app/counter.py), against a fake INCRBY and a fake GET."""

import asyncio
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "api_counter", Path(__file__).resolve().parents[3] / "services/api/app/counter.py"
)
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


def test_every_caller_gets_its_own_result_or_its_own_error():
    """One batch, one round trip; an error for one item (WRONGTYPE for one key) reaches only its caller."""

    async def go():
        batches = []

        async def get_many(keys):
            batches.append(list(keys))
            await asyncio.sleep(0.01)
            return [ValueError(k) if k == "bad" else k.upper() for k in keys]

        c = counter.Coalescer(get_many)
        first = await c("x")  # a lone caller: a batch of one
        rest = await asyncio.gather(c("a"), c("bad"), c("b"), return_exceptions=True)
        return first, rest, batches

    first, rest, batches = asyncio.run(go())
    assert first == "X" and rest[0] == "A" and rest[2] == "B"
    assert isinstance(rest[1], ValueError) and str(rest[1]) == "bad"
    assert batches == [["x"], ["a", "bad", "b"]]


def test_a_caller_that_goes_away_does_not_disturb_the_batch():
    async def go():
        async def run(items):
            await asyncio.sleep(0.01)
            return items

        c = counter.Coalescer(run)
        leaving = asyncio.ensure_future(c(1))
        staying = asyncio.ensure_future(c(2))
        await asyncio.sleep(0)
        leaving.cancel()
        return await staying, await c(3)

    assert asyncio.run(go()) == (2, 3)
