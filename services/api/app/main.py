"""lab web API: FastAPI app served by uvicorn on 0.0.0.0:5000.

Endpoints: /health, /kv/{key} (redis), /items (postgres), /echo (echo
service over TCP or UDP), /hits (redis counter), /info, / (status page).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .config import SERVICE_NAMES, ConfigError, Settings
from .counter import CoalescingCounter, HitsFastPath
from .deps import (
    ECHO_TCP_MAX,
    ECHO_UDP_MAX,
    POSTGRES_DOWN,
    REDIS_DOWN,
    DependencyError,
    Deps,
    describe,
)
from .limits import MAX_BODY_BYTES, BodyLimitMiddleware

log = logging.getLogger("uvicorn.error")

try:
    SETTINGS = Settings.from_env()
except ConfigError as _exc:
    print(f"api: {_exc}", file=sys.stderr)
    raise SystemExit(2) from None

STATUS_PAGE = (FsPath(__file__).parent / "static" / "index.html").read_bytes()

KV_PREFIX = "kv:"
HITS_KEY = "lab:hits"
MAX_ID = 2**63 - 1


# --------------------------------------------------------------------------
# Models (the OpenAPI contract)
# --------------------------------------------------------------------------
def _no_surrogates(value: str | None) -> str | None:
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid UTF-8 text") from None
    return value


# Text stored in postgres may not contain NUL characters.
NO_NUL = r"^[^\x00]*$"
ItemName = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=NO_NUL, description="1..200 characters, no NUL"),
    AfterValidator(_no_surrogates),
]
ItemDescription = Annotated[
    str | None,
    Field(max_length=2000, pattern=NO_NUL, description="at most 2000 characters, no NUL"),
    AfterValidator(_no_surrogates),
]
KEY_PATTERN = r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$"
KeyPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=KEY_PATTERN,
        description="1..200 characters of A-Z a-z 0-9 _ . : - (not starting with '.')",
    ),
]
ItemIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="item id")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class KVIn(Strict):
    value: Annotated[
        str, Field(max_length=8192, description="at most 8192 characters"),
        AfterValidator(_no_surrogates),
    ]


class KVOut(BaseModel):
    key: str
    value: str


class ItemIn(Strict):
    name: ItemName
    description: ItemDescription = None


class Item(BaseModel):
    id: int
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[Item]
    total: int
    limit: int
    offset: int


class Hits(BaseModel):
    hits: int


class Check(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check]


class ServiceInfo(BaseModel):
    name: str
    host_address: str = Field(description='loopback address on the host, or "unknown"')
    network_address: str = Field(description="name:port on the private network")


class Info(BaseModel):
    services: list[ServiceInfo]


class Error(BaseModel):
    detail: str


def err(description: str) -> dict:
    return {"model": Error, "description": description}


R404 = {404: err("Not found")}
R413 = {413: err(f"Request body larger than {MAX_BODY_BYTES} bytes")}
R503_REDIS = {503: err("Redis unavailable")}
R503_PG = {503: err("Postgres unavailable")}


# --------------------------------------------------------------------------
# App
# --------------------------------------------------------------------------
@asynccontextmanager
async def lifespan(app: FastAPI):
    deps = Deps(SETTINGS)
    await deps.start()
    app.state.deps = deps
    app.state.hits = CoalescingCounter(lambda n: deps.redis.incrby(HITS_KEY, n))
    log.info(
        "api ready: redis=%s postgres=%s echo=%s",
        *(SETTINGS.network_addresses()[n] for n in ("redis", "postgres", "echo")),
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
        f"Request bodies are limited to {MAX_BODY_BYTES} bytes (413 beyond)."
    ),
    lifespan=lifespan,
    # Swagger UI / ReDoc pull assets from a CDN: not served (no external
    # resources). The contract is at /openapi.json.
    docs_url=None,
    redoc_url=None,
)
app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES)
app.add_middleware(HitsFastPath)  # added last = outermost: skips the body limit too (GET has no body)


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException):
    if exc.status_code == 405:
        # Starlette's Allow lists only the first route matching the path;
        # list every method the path supports.
        methods: set[str] = set()
        for route in request.app.router.routes:
            match, _ = route.matches(request.scope)
            if match != Match.NONE and getattr(route, "methods", None):
                methods |= set(route.methods)
        methods.discard("HEAD")
        headers = {"Allow": ", ".join(sorted(methods))} if methods else None
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # e.g. a body that is not valid UTF-8: report it like malformed JSON.
        return JSONResponse(
            {"detail": [{"type": "json_invalid", "loc": ["body"],
                         "msg": "request body is not valid JSON (UTF-8)"}]},
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
        deps_of(request).schema_lost()
    return JSONResponse({"detail": f"postgres unavailable: {describe(exc)}"}, status_code=503)


for _exc_cls in POSTGRES_DOWN:
    app.add_exception_handler(_exc_cls, _postgres_down)


@app.exception_handler(asyncio.TimeoutError)
async def _timeout(request: Request, exc: Exception):
    return JSONResponse({"detail": "dependency timed out"}, status_code=503)


@app.exception_handler(Exception)
async def _unexpected(request: Request, exc: Exception):
    log.error("unhandled error on %s %s: %s: %s", request.method, request.url.path,
              exc.__class__.__name__, describe(exc))
    return JSONResponse({"detail": "internal error"}, status_code=500)


# -- health ----------------------------------------------------------------
@app.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    tags=["status"],
    summary="Check redis, postgres and echo over the private network",
    responses={503: {"model": Health, "description": "At least one dependency is down"}},
)
async def health(request: Request):
    checks = await deps_of(request).health()
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ok else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


# -- key/value (redis) ------------------------------------------------------
@app.get("/kv/{key}", response_model=KVOut, tags=["kv"],
         responses={**R404, **R503_REDIS})
async def kv_get(key: KeyPath, request: Request):
    value = await deps_of(request).redis.get(KV_PREFIX + key)
    if value is None:
        raise HTTPException(404, f"key {key!r} not found")
    return {"key": key, "value": value}


@app.put("/kv/{key}", response_model=KVOut, tags=["kv"],
         responses={**R413, **R503_REDIS})
async def kv_put(key: KeyPath, body: KVIn, request: Request):
    await deps_of(request).redis.set(KV_PREFIX + key, body.value)
    return {"key": key, "value": body.value}


@app.delete("/kv/{key}", status_code=204, response_class=Response, tags=["kv"],
            responses={204: {"description": "Deleted"}, **R404, **R503_REDIS})
async def kv_delete(key: KeyPath, request: Request):
    removed = await deps_of(request).redis.delete(KV_PREFIX + key)
    if not removed:
        raise HTTPException(404, f"key {key!r} not found")
    return Response(status_code=204)


# -- items (postgres) -------------------------------------------------------
ITEM_COLUMNS = "id, name, description, created_at, updated_at"


@app.post("/items", status_code=201, response_model=Item, tags=["items"],
          responses={**R413, **R503_PG})
async def item_create(body: ItemIn, request: Request):
    async def q(conn):
        cur = await conn.execute(
            f"INSERT INTO items (name, description) VALUES (%s, %s) RETURNING {ITEM_COLUMNS}",
            (body.name, body.description),
        )
        return await cur.fetchone()

    return await deps_of(request).run_pg(q)


@app.get("/items", response_model=ItemPage, tags=["items"], responses=R503_PG)
async def item_list(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
):
    async def q(conn):
        cur = await conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM items ORDER BY id LIMIT %s OFFSET %s",
            (limit, offset),
        )
        rows = await cur.fetchall()
        cur = await conn.execute("SELECT count(*) AS n FROM items")
        return rows, (await cur.fetchone())["n"]

    rows, total = await deps_of(request).run_pg(q)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@app.get("/items/{item_id}", response_model=Item, tags=["items"],
         responses={**R404, **R503_PG})
async def item_get(item_id: ItemIdPath, request: Request):
    async def q(conn):
        cur = await conn.execute(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = %s", (item_id,))
        return await cur.fetchone()

    row = await deps_of(request).run_pg(q)
    if row is None:
        raise HTTPException(404, f"item {item_id} not found")
    return row


@app.put("/items/{item_id}", response_model=Item, tags=["items"],
         responses={**R404, **R413, **R503_PG})
async def item_replace(item_id: ItemIdPath, body: ItemIn, request: Request):
    async def q(conn):
        cur = await conn.execute(
            "UPDATE items SET name = %s, description = %s, updated_at = now() "
            f"WHERE id = %s RETURNING {ITEM_COLUMNS}",
            (body.name, body.description, item_id),
        )
        return await cur.fetchone()

    row = await deps_of(request).run_pg(q)
    if row is None:
        raise HTTPException(404, f"item {item_id} not found")
    return row


@app.delete("/items/{item_id}", status_code=204, response_class=Response, tags=["items"],
            responses={204: {"description": "Deleted"}, **R404, **R503_PG})
async def item_delete(item_id: ItemIdPath, request: Request):
    async def q(conn):
        cur = await conn.execute("DELETE FROM items WHERE id = %s", (item_id,))
        return cur.rowcount

    deleted = await deps_of(request).run_pg(q)
    if not deleted:
        raise HTTPException(404, f"item {item_id} not found")
    return Response(status_code=204)


# -- echo relay ------------------------------------------------------------
@app.post(
    "/echo",
    tags=["echo"],
    response_class=Response,
    summary="Relay the raw body to the echo service and return what came back",
    description=(
        f"TCP (default): up to {ECHO_TCP_MAX} bytes; UDP (`?proto=udp`): one datagram of up "
        f"to {ECHO_UDP_MAX} bytes. An empty body over UDP is answered with an empty body "
        "without sending a datagram."
    ),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary", "maxLength": ECHO_UDP_MAX}
                }
            },
        }
    },
    responses={
        200: {
            "description": "Exactly the bytes the echo service sent back",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        413: err(f"Body larger than {ECHO_TCP_MAX} bytes (tcp) or {ECHO_UDP_MAX} bytes (udp)"),
        503: err("Echo service unavailable"),
    },
)
async def echo(
    request: Request,
    proto: Annotated[Literal["tcp", "udp"], Query(description="transport to the echo service")] = "tcp",
):
    payload = await request.body()
    if not payload and proto == "udp":
        # Zero-length datagrams can't be relayed meaningfully: empty in, empty out.
        return Response(b"", media_type="application/octet-stream")
    limit = ECHO_UDP_MAX if proto == "udp" else ECHO_TCP_MAX
    if len(payload) > limit:
        raise HTTPException(413, f"body too large for {proto}: limit is {limit} bytes")
    deps = deps_of(request)
    relay = deps.echo_udp if proto == "udp" else deps.echo_tcp
    try:
        reply = await asyncio.wait_for(relay(payload), timeout=2.0)
    except (OSError, asyncio.TimeoutError, EOFError) as exc:
        raise DependencyError("echo", f"{proto}: {describe(exc)}") from None
    return Response(reply, media_type="application/octet-stream")


# -- hits ------------------------------------------------------------------
@app.get("/hits", response_model=Hits, tags=["status"], responses=R503_REDIS,
         summary="Increment and return the hit counter (peek=true only reads it)")
async def hits(
    request: Request,
    peek: Annotated[bool, Query(description="read without incrementing")] = False,
):
    deps = deps_of(request)
    if peek:
        n = int(await deps.redis.get(HITS_KEY) or 0)
    else:
        n = await request.app.state.hits.incr()
    # The hot path of the benchmark: an int needs no pydantic round trip (the schema is still Hits).
    return Response(b'{"hits":%d}' % n, media_type="application/json")


# -- status page -----------------------------------------------------------
@app.get("/info", response_model=Info, tags=["status"],
         summary="The services with their host and private-network addresses")
async def info():
    net = SETTINGS.network_addresses()
    return {
        "services": [
            {
                "name": name,
                "host_address": SETTINGS.host_addresses.get(name, "unknown"),
                "network_address": net[name],
            }
            for name in SERVICE_NAMES
        ]
    }


@app.get("/", response_class=HTMLResponse, tags=["status"], summary="Status page")
async def status_page():
    return HTMLResponse(STATUS_PAGE, headers={"Cache-Control": "no-cache"})
