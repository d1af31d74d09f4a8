"""lab web API: FastAPI app served by uvicorn on 0.0.0.0:5000 (`uvicorn --factory app.main:from_env`).

`create_app(settings)` builds the app for any settings, so tests run it in-process; start-up work
(pools, schema) happens in the lifespan, never at import.
"""

from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import errors
from .config import ConfigError, Settings
from .counter import CoalescingCounter, HitsFastPath
from .deps import Deps
from .guards import HostCheck, OriginCheck
from .limits import MAX_BODY_BYTES, BodyLimitMiddleware
from .routes import HITS_KEY, router

log = logging.getLogger("uvicorn.error")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        deps = Deps(settings)
        await deps.start()
        app.state.deps = deps
        app.state.hits = CoalescingCounter(lambda n: deps.redis.incrby(HITS_KEY, n))
        log.info(
            "api ready: redis=%s postgres=%s echo=%s",
            *(settings.network_addresses()[n] for n in ("redis", "postgres", "echo")),
        )
        try:
            yield
        finally:
            await deps.stop()

    app = FastAPI(
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
        # Swagger UI / ReDoc pull assets from a CDN: not served (no external
        # resources). The contract is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(router)
    # Added last = outermost. Order, outside in: Host, Origin, the /hits fast path (skips the body
    # limit too: GET has no body), the body limit.
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES)
    app.add_middleware(HitsFastPath)
    app.add_middleware(OriginCheck, allowed=settings.allowed_origins())
    app.add_middleware(HostCheck, allowed=settings.allowed_hosts())
    return app


def from_env() -> FastAPI:
    """uvicorn's factory: settings from the environment and the secret files, or exit 2 saying why."""
    try:
        return create_app(Settings.from_env())
    except ConfigError as exc:
        print(f"api: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
