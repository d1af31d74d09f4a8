"""Error mapping, in one place: 404/405/413/422 from the framework, 503 naming a dependency that is
down, 500 with no traceback for anything unforeseen."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .deps import POSTGRES_DOWN, REDIS_DOWN, DependencyError, describe
from .routes import router

log = logging.getLogger("uvicorn.error")


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            # Starlette's Allow lists only the first route matching the path;
            # list every method the path supports.
            methods: set[str] = set()
            for route in router.routes:  # the APIRoutes themselves (include_router wraps them)
                match, _ = route.matches(request.scope)
                if match != Match.NONE and getattr(route, "methods", None):
                    methods |= set(route.methods)
            methods.discard("HEAD")
            headers = {"Allow": ", ".join(sorted(methods))} if methods else None
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # e.g. a body that is not valid UTF-8: report it like malformed JSON.
            return JSONResponse(
                {
                    "detail": [
                        {"type": "json_invalid", "loc": ["body"], "msg": "request body is not valid JSON (UTF-8)"}
                    ]
                },
                status_code=422,
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(DependencyError)
    async def _dependency_error(request: Request, exc: DependencyError):
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(REDIS_DOWN[0])
    @app.exception_handler(REDIS_DOWN[1])
    @app.exception_handler(REDIS_DOWN[2])
    async def _redis_down(request: Request, exc: Exception):
        return JSONResponse({"detail": f"redis unavailable: {describe(exc)}"}, status_code=503)

    async def _postgres_down(request: Request, exc: Exception):
        import psycopg.errors

        if isinstance(exc, psycopg.errors.UndefinedTable):
            request.app.state.deps.schema_lost()
        return JSONResponse({"detail": f"postgres unavailable: {describe(exc)}"}, status_code=503)

    for _exc_cls in POSTGRES_DOWN:
        app.add_exception_handler(_exc_cls, _postgres_down)

    @app.exception_handler(asyncio.TimeoutError)
    async def _timeout(request: Request, exc: Exception):
        return JSONResponse({"detail": "dependency timed out"}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error(
            "unhandled error on %s %s: %s: %s", request.method, request.url.path, exc.__class__.__name__, describe(exc)
        )
        return JSONResponse({"detail": "internal error"}, status_code=500)
