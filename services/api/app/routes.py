"""The API's routes. Dependencies (the pools, the settings) come through FastAPI's `Depends`, so an
app built by `create_app` with other settings, or with overrides, serves the same routes."""

from __future__ import annotations

import asyncio
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse

from .config import SERVICE_NAMES, Settings
from .deps import ECHO_TCP_MAX, ECHO_UDP_MAX, DependencyError, Deps, describe
from .models import (
    R404,
    R413,
    R503_PG,
    R503_REDIS,
    Health,
    Hits,
    Info,
    Item,
    ItemIdPath,
    ItemIn,
    ItemPage,
    KeyPath,
    KVIn,
    KVOut,
    err,
)

STATUS_PAGE = (FsPath(__file__).parent / "static" / "index.html").read_bytes()
KV_PREFIX = "kv:"
HITS_KEY = "lab:hits"

router = APIRouter()


# `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, a thread hop and
# GIL hand-off on every request for what is an attribute read.
async def get_deps(request: Request) -> Deps:
    return request.app.state.deps


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


DepsDep = Annotated[Deps, Depends(get_deps)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# -- health ----------------------------------------------------------------
@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    tags=["status"],
    summary="Check redis, postgres and echo over the private network",
    responses={503: {"model": Health, "description": "At least one dependency is down"}},
)
async def health(deps: DepsDep):
    checks = await deps.health()
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ok else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


# -- key/value (redis) ------------------------------------------------------
@router.get("/kv/{key}", response_model=KVOut, tags=["kv"], responses={**R404, **R503_REDIS})
async def kv_get(key: KeyPath, deps: DepsDep):
    value = await deps.redis.get(KV_PREFIX + key)
    if value is None:
        raise HTTPException(404, f"key {key!r} not found")
    return {"key": key, "value": value}


@router.put("/kv/{key}", response_model=KVOut, tags=["kv"], responses={**R413, **R503_REDIS})
async def kv_put(key: KeyPath, body: KVIn, deps: DepsDep):
    await deps.redis.set(KV_PREFIX + key, body.value)
    return {"key": key, "value": body.value}


@router.delete(
    "/kv/{key}",
    status_code=204,
    response_class=Response,
    tags=["kv"],
    responses={204: {"description": "Deleted"}, **R404, **R503_REDIS},
)
async def kv_delete(key: KeyPath, deps: DepsDep):
    removed = await deps.redis.delete(KV_PREFIX + key)
    if not removed:
        raise HTTPException(404, f"key {key!r} not found")
    return Response(status_code=204)


# -- items (postgres) -------------------------------------------------------
ITEM_COLUMNS = "id, name, description, created_at, updated_at"


@router.post("/items", status_code=201, response_model=Item, tags=["items"], responses={**R413, **R503_PG})
async def item_create(body: ItemIn, deps: DepsDep):
    async def q(conn):
        cur = await conn.execute(
            f"INSERT INTO items (name, description) VALUES (%s, %s) RETURNING {ITEM_COLUMNS}",
            (body.name, body.description),
        )
        return await cur.fetchone()

    return await deps.run_pg(q)


@router.get("/items", response_model=ItemPage, tags=["items"], responses=R503_PG)
async def item_list(
    deps: DepsDep,
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

    rows, total = await deps.run_pg(q)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/items/{item_id}", response_model=Item, tags=["items"], responses={**R404, **R503_PG})
async def item_get(item_id: ItemIdPath, deps: DepsDep):
    async def q(conn):
        cur = await conn.execute(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = %s", (item_id,))
        return await cur.fetchone()

    row = await deps.run_pg(q)
    if row is None:
        raise HTTPException(404, f"item {item_id} not found")
    return row


@router.put("/items/{item_id}", response_model=Item, tags=["items"], responses={**R404, **R413, **R503_PG})
async def item_replace(item_id: ItemIdPath, body: ItemIn, deps: DepsDep):
    async def q(conn):
        cur = await conn.execute(
            f"UPDATE items SET name = %s, description = %s, updated_at = now() WHERE id = %s RETURNING {ITEM_COLUMNS}",
            (body.name, body.description, item_id),
        )
        return await cur.fetchone()

    row = await deps.run_pg(q)
    if row is None:
        raise HTTPException(404, f"item {item_id} not found")
    return row


@router.delete(
    "/items/{item_id}",
    status_code=204,
    response_class=Response,
    tags=["items"],
    responses={204: {"description": "Deleted"}, **R404, **R503_PG},
)
async def item_delete(item_id: ItemIdPath, deps: DepsDep):
    async def q(conn):
        cur = await conn.execute("DELETE FROM items WHERE id = %s", (item_id,))
        return cur.rowcount

    deleted = await deps.run_pg(q)
    if not deleted:
        raise HTTPException(404, f"item {item_id} not found")
    return Response(status_code=204)


# -- echo relay ------------------------------------------------------------
@router.post(
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
    deps: DepsDep,
    proto: Annotated[Literal["tcp", "udp"], Query(description="transport to the echo service")] = "tcp",
):
    payload = await request.body()
    if not payload and proto == "udp":
        # Zero-length datagrams can't be relayed meaningfully: empty in, empty out.
        return Response(b"", media_type="application/octet-stream")
    limit = ECHO_UDP_MAX if proto == "udp" else ECHO_TCP_MAX
    if len(payload) > limit:
        raise HTTPException(413, f"body too large for {proto}: limit is {limit} bytes")
    relay = deps.echo_udp if proto == "udp" else deps.echo_tcp
    try:
        reply = await asyncio.wait_for(relay(payload), timeout=2.0)
    except (TimeoutError, OSError, EOFError) as exc:
        raise DependencyError("echo", f"{proto}: {describe(exc)}") from None
    return Response(reply, media_type="application/octet-stream")


# -- hits ------------------------------------------------------------------
@router.get(
    "/hits",
    response_model=Hits,
    tags=["status"],
    responses=R503_REDIS,
    summary="Increment and return the hit counter (peek=true only reads it)",
)
async def hits(
    request: Request,
    deps: DepsDep,
    peek: Annotated[bool, Query(description="read without incrementing")] = False,
):
    if peek:
        n = int(await deps.redis.get(HITS_KEY) or 0)
    else:
        n = await request.app.state.hits.incr()
    # The hot path of the benchmark: an int needs no pydantic round trip (the schema is still Hits).
    return Response(b'{"hits":%d}' % n, media_type="application/json")


# -- status page -----------------------------------------------------------
@router.get(
    "/info", response_model=Info, tags=["status"], summary="The services with their host and private-network addresses"
)
async def info(settings: SettingsDep):
    net = settings.network_addresses()
    return {
        "services": [
            {
                "name": name,
                "host_address": settings.host_addresses.get(name, "unknown"),
                "network_address": net[name],
            }
            for name in SERVICE_NAMES
        ]
    }


@router.get("/", response_class=HTMLResponse, tags=["status"], summary="Status page")
async def status_page():
    return HTMLResponse(STATUS_PAGE, headers={"Cache-Control": "no-cache"})
