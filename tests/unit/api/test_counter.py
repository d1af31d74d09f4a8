"""The API's coalescing hit counter (services/api/app/counter.py), against a fake INCRBY."""

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


def test_the_fast_path_answers_plain_get_hits_and_passes_everything_else_on():
    class State:
        hits = None

    class App:
        state = State()

    seen = []

    async def downstream(scope, receive, send):
        seen.append((scope["path"], scope["query_string"]))

    async def go():
        store = Store()
        App.state.hits = counter.CoalescingCounter(store.incrby)
        mw = counter.HitsFastPath(downstream)
        sent = []

        async def send(message):
            sent.append(message)

        base = {"type": "http", "method": "GET", "app": App, "query_string": b""}
        await mw(base | {"path": "/hits"}, None, send)
        await mw(base | {"path": "/hits", "query_string": b"peek=true"}, None, send)
        await mw(base | {"path": "/kv/x"}, None, send)
        await mw(base | {"path": "/hits", "method": "POST"}, None, send)
        store.fail = True
        await mw(base | {"path": "/hits"}, None, send)  # redis down: the route answers (503 naming redis)
        return sent

    sent = asyncio.run(go())
    assert [m.get("status") for m in sent] == [200, None] and sent[1]["body"] == b'{"hits":1}'
    assert seen == [("/hits", b"peek=true"), ("/kv/x", b""), ("/hits", b""), ("/hits", b"")]
