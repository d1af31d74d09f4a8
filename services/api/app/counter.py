"""A hit counter that stays fast under load.

Concurrent `incr()` callers share one `INCRBY key N` round trip (at most one in flight;
callers arriving meanwhile form the next batch), and each still gets its own value:
the batch's values are top-N+1 .. top, handed out in arrival order. At low load it is
exactly one INCR-like round trip per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class CoalescingCounter:
    def __init__(self, incrby: Callable[[int], Awaitable[int]]) -> None:
        self._incrby = incrby
        self._pending: list[asyncio.Future[int]] = []
        self._running = False

    async def incr(self) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        if not self._running:
            self._running = True
            asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    top = await self._incrby(len(batch))
                except Exception as exc:  # every caller of the batch sees the same failure (e.g. redis down)
                    for f in batch:
                        if not f.done():
                            f.set_exception(exc)
                    continue
                for i, f in enumerate(batch):
                    if not f.done():
                        f.set_result(top - len(batch) + 1 + i)
        finally:
            self._running = False


class HitsFastPath:
    """ASGI middleware: a plain `GET /hits` (no query string) is answered before FastAPI's routing,
    validation and serialization — about half of a request's cost here, and /hits is the hot path.
    Everything else (`?peek=true`, bad queries, other methods, a redis failure) goes on to the
    documented FastAPI route, which also produces the 503 naming redis.
    """

    def __init__(self, app, path: str = "/hits") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] != "GET"
            or scope.get("query_string")
        ):
            return await self.app(scope, receive, send)
        try:
            n = await scope["app"].state.hits.incr()
        except Exception:
            return await self.app(scope, receive, send)
        body = b'{"hits":%d}' % n
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
