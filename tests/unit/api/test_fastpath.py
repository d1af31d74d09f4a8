"""The fast path for GET /hits and GET /kv/{key} (services/api/app/fastpath.py): it answers only what the
FastAPI route would answer with 200, the same body, and passes everything else on to the route."""

from __future__ import annotations

import asyncio

import pytest

from app.counter import Coalescer
from app.fastpath import FastReads


class State:
    hits = None
    kv_reads = None


class FakeRedis:
    def __init__(self, data: dict[str, str]) -> None:
        self.data, self.hits, self.fail = data, 0, False

    async def incr(self) -> int:
        if self.fail:
            raise ConnectionError("redis down")
        self.hits += 1
        return self.hits

    async def get_many(self, keys):
        if self.fail:
            raise ConnectionError("redis down")
        return [self.data.get(k) for k in keys]


def run_fast_path(requests: list[dict], redis: FakeRedis):
    """Each request through FastReads; returns (what was sent, which scopes were passed on)."""
    passed_on = []

    async def downstream(scope, receive, send):
        passed_on.append((scope["method"], scope["path"], scope["query_string"]))

    async def go():
        state = State()
        state.hits = redis
        state.kv_reads = Coalescer(redis.get_many)
        mw = FastReads(downstream, state)
        sent = []

        async def send(message):
            sent.append(message)

        for req in requests:
            base = {"type": "http", "method": "GET", "query_string": b"", "root_path": "", "headers": []}
            await mw(base | req, None, send)
        return sent

    return asyncio.run(go()), passed_on


def test_plain_get_hits_is_answered_and_everything_else_passed_on():
    redis = FakeRedis({})
    sent, passed_on = run_fast_path(
        [
            {"path": "/hits"},
            {"path": "/hits", "query_string": b"peek=true"},
            {"path": "/hits", "method": "POST"},
            {"path": "/hits", "method": "HEAD"},
            {"path": "/hits", "root_path": "/mounted"},
        ],
        redis,
    )
    assert [m.get("status") for m in sent] == [200, None] and sent[1]["body"] == b'{"hits":1}'
    assert dict(sent[0]["headers"]) == {b"content-type": b"application/json", b"content-length": b"10"}
    assert passed_on == [
        ("GET", "/hits", b"peek=true"),
        ("POST", "/hits", b""),
        ("HEAD", "/hits", b""),
        ("GET", "/hits", b""),
    ]


def test_an_existing_key_is_answered_with_the_routes_body():
    redis = FakeRedis({"kv:a.b-c:D_1": 'héllo "x"'})
    sent, passed_on = run_fast_path([{"path": "/kv/a.b-c:D_1"}], redis)
    assert sent[0]["status"] == 200 and passed_on == []
    assert sent[1]["body"] == '{"key":"a.b-c:D_1","value":"héllo \\"x\\""}'.encode()


@pytest.mark.parametrize(
    "path",
    [
        "/kv/missing",  # 404 from the route
        "/kv/.hidden",  # 422: may not start with '.'
        "/kv/a b",
        "/kv/é",
        "/kv/a\n",
        "/kv/" + "x" * 201,
        "/kv/a/b",  # no such route
        "/kv/",
        "/kv",
    ],
)
def test_keys_the_route_refuses_or_cannot_find_are_passed_on(path):
    sent, passed_on = run_fast_path([{"path": path}], FakeRedis({"kv:.hidden": "x", "kv:a b": "x"}))
    assert sent == [] and passed_on == [("GET", path, b"")]


@pytest.mark.parametrize(
    "header", [(b"content-length", b"70000"), (b"content-length", b"5"), (b"transfer-encoding", b"chunked")]
)
def test_a_kv_read_that_declares_a_body_is_passed_on_to_the_body_limit_and_the_route(header):
    sent, passed_on = run_fast_path([{"path": "/kv/a", "headers": [header]}], FakeRedis({"kv:a": "1"}))
    assert sent == [] and passed_on == [("GET", "/kv/a", b"")]


def test_redis_failures_are_passed_on_to_the_route_which_names_redis():
    redis = FakeRedis({"kv:a": "1"})
    redis.fail = True
    sent, passed_on = run_fast_path([{"path": "/kv/a"}, {"path": "/hits"}], redis)
    assert sent == [] and passed_on == [("GET", "/kv/a", b""), ("GET", "/hits", b"")]


def test_in_the_app_the_fast_path_accepts_exactly_the_keys_the_route_accepts(client):
    """Through the whole app (guards included), with redis answering every key: a key the fast path
    answers is 200, one it passes on meets the route's validation (422)."""
    app = client.app
    saved = app.state.kv_reads

    async def every_key_exists(keys):
        return ["v" for _ in keys]

    app.state.kv_reads = Coalescer(every_key_exists)
    try:
        for key in ["a", "A-Z_0.9:x", "-", "x" * 200]:
            r = client.get(f"/kv/{key}")
            assert (r.status_code, r.json()) == (200, {"key": key, "value": "v"})
        for key in [".a", "x" * 201, "a%20b", "%C3%A9"]:
            assert client.get(f"/kv/{key}").status_code == 422, key
        big = client.request("GET", "/kv/a", content=b"x" * (64 * 1024 + 1))
        assert big.status_code == 413 and "limit is 65536 bytes" in big.json()["detail"]
        assert client.get("/kv/a", headers={"host": "rebind.test:15000"}).status_code == 421
        cross_site = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}
        assert client.get("/kv/a", headers=cross_site).status_code == 403
    finally:
        app.state.kv_reads = saved
