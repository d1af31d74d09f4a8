"""lab web API: FastAPI app served by uvicorn on 0.0.0.0:5000 (`uvicorn --factory app.main:from_env`).

`create_app(settings)` builds the app for any settings, so tests run it in-process; start-up work
(pools, schema) happens in the lifespan, never at import.
"""

from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from . import errors
from .config import ConfigError, Settings
from .counter import Coalescer, CoalescingCounter
from .deps import Deps
from .fastpath import FastReads
from .guards import HostCheck, OriginCheck
from .limits import MAX_BODY_BYTES, BodyLimitMiddleware
from .routes import HITS_KEY, router

log = logging.getLogger("uvicorn.error")


class FrontedAPI(FastAPI):
    """FastAPI with pure ASGI middleware in *front* of its own stack, where uvicorn calls it first.

    Starlette puts every `add_middleware` layer inside its ServerErrorMiddleware, after FastAPI's
    telemetry and body-limit layers: five more coroutine frames, which a request passes through again
    each time it resumes (a hot read resumes once, after redis). Measured under wrk in the api's image,
    that was ~6 µs of the ~65 µs of CPU a `GET /hits` then cost the api. The Host and Origin checks and the
    fast path run in front instead: they raise nothing of their own (the fast path hands any redis
    error on to the route), so every route keeps FastAPI's error handling.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # FastAPI itself: its middleware stack (error handling first), routing, the routes.
        self.framework: ASGIApp = super().__call__
        # What uvicorn calls; create_app puts the guards and the fast path here, around `framework`.
        self.front: ASGIApp = self.framework

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        deps = Deps(settings)
        await deps.start()
        app.state.deps = deps
        app.state.hits = CoalescingCounter(lambda n: deps.redis_hits.incrby(HITS_KEY, n))
        app.state.kv_reads = Coalescer(deps.redis_mget)
        log.info(
            "api ready: redis=%s postgres=%s echo=%s",
            *(settings.network_addresses()[n] for n in ("redis", "postgres", "echo")),
        )
        try:
            yield
        finally:
            await deps.stop()

    app = FrontedAPI(
        title="lab API",
        version="1.0.0",
        description=(
            "Web API of the lab stack: key/value store on Redis, items on Postgres, "
            "a relay to the echo service, a hit counter and a status page. "
            f"Request bodies are limited to {MAX_BODY_BYTES} bytes (413 beyond). "
            "Requests must be addressed to the API's own loopback names (421 otherwise); "
            "cross-origin writes are refused (403)."
        ),
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry: no SDK or provider is installed here, yet with it on, every
        # request looked up the global tracer/meter/logger providers (and os.environ) to find that out:
        # ~4 of the ~14 µs of CPU of a /hits request, in-process. Nothing is exported either way.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Swagger UI / ReDoc pull assets from a CDN: not served (no external
        # resources). The contract is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES)
    # In front of everything, outside in: Host, Origin, the fast path for GET /hits and GET /kv/{key}
    # (skips the body limit too: GET has no body), then FastAPI with the body limit.
    app.front = HostCheck(
        OriginCheck(FastReads(app.framework, app.state), allowed=settings.allowed_origins()),
        allowed=settings.allowed_hosts(),
    )
    return app


def from_env() -> FastAPI:
    """uvicorn's factory: settings from the environment and the secret files, or exit 2 saying why."""
    try:
        return create_app(Settings.from_env())
    except ConfigError as exc:
        print(f"api: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
