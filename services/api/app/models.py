"""The API's contract: request and response models (OpenAPI) and the documented error responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .limits import MAX_BODY_BYTES

MAX_ID = 2**63 - 1


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
        str,
        Field(max_length=8192, description="at most 8192 characters"),
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
