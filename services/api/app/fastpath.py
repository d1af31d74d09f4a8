"""The two hot reads, answered before FastAPI: a plain `GET /hits` and a `GET /kv/{key}` that finds its key.

Profiled under wrk in the api's image (64 connections, one worker): a `GET /kv/{key}` through FastAPI
cost the api ~350 µs of CPU even with its dependencies async and its telemetry off (routing through the
included router, dependency solving, validation, response-model serialization, a pooled redis GET),
about ten times the ~35 µs of a bare ASGI hello; answered here it costs ~60 µs. This ASGI middleware
sits behind the Host and Origin checks (guards.py) and answers only the plain successes, with the
route's own rules:

- the key is cut from the path by Starlette's regex for the route's path (`compile_path`) and checked
  with pydantic against the route's own `KeyPath` annotation, so exactly the keys the route accepts;
- the body is the route's `response_model` (KVOut) serialized by pydantic, as FastAPI does;
- the redis reads go through the coalescers of counter.py: concurrent requests share one INCRBY, and
  one MGET for their keys.

Anything else goes on to the documented FastAPI route, which answers it as it always has: a query on
/hits (`?peek=true`, bad values: 422), a key the route refuses (422), a key MGET found no string for
(the route's own GET tells a missing key, 404, from one holding another type, 500), a GET /kv that
declares a body (the body limit's 413 stays where it was), a redis failure (503 naming redis), other
methods (405), a mounted `root_path`.
"""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from starlette.routing import compile_path

from .models import KeyPath, KVOut
from .routes import KV_PREFIX

HITS_PATH = "/hits"
KV_PATH = "/kv/{key}"  # the path of routes.kv_get

_KV_PATH_RE, _, _ = compile_path(KV_PATH)
_KEY = TypeAdapter(KeyPath)
_KV_OUT = TypeAdapter(KVOut)


def _declares_body(scope) -> bool:
    for name, value in scope["headers"]:
        if (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            return True
    return False


class FastReads:
    def __init__(self, app, state) -> None:
        """`state`: the app's, where the lifespan puts the coalescers `hits` and `kv_reads`."""
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        # One function on purpose: each frame here is passed again when the request resumes after redis.
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == HITS_PATH:
            if scope.get("query_string"):
                return await self.app(scope, receive, send)
            try:
                n = await self.state.hits.incr()
            except Exception:  # the route answers: 503 naming redis
                return await self.app(scope, receive, send)
            body = b'{"hits":%d}' % n
        else:
            match = _KV_PATH_RE.match(path)
            if match is None or _declares_body(scope):
                return await self.app(scope, receive, send)
            try:
                key = _KEY.validate_python(match["key"])
            except ValidationError:  # the route answers: 422
                return await self.app(scope, receive, send)
            try:
                value = await self.state.kv_reads(KV_PREFIX + key)
            except Exception:  # the route answers: 503 naming redis
                return await self.app(scope, receive, send)
            if value is None:  # missing, or not a string: the route's GET tells which (404 or 500)
                return await self.app(scope, receive, send)
            body = _KV_OUT.dump_json(KVOut(key=key, value=value))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})
