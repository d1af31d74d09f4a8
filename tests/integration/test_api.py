"""The web API through its published loopback port: every endpoint, every kind of bad input.

All traffic goes to 127.0.0.1 (and [::1] where the project has IPv6) on the stack's
published api port. Tests that change shared state (the hit counter, items) assert
relative to what they read first, so other tests on the same stack don't disturb them.
"""

from __future__ import annotations

import os
import secrets

import pytest
import requests

from lab import inventory
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

TIMEOUT = 10
BODY_LIMIT = 64 * 1024  # services/api/app/limits.py MAX_BODY_BYTES
ECHO_UDP_MAX = 65507  # services/api/app/deps.py
DEPENDENCIES = ("redis", "postgres", "echo")


@pytest.fixture(scope="module")
def api(lab_stack) -> str:
    return lab_stack.env["API_URL"]


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


def key() -> str:
    return f"t-{secrets.token_hex(4)}"


def locs(response: requests.Response) -> list[list]:
    """The `loc` of every validation error of a 422 body."""
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, response.text
    return [d["loc"] for d in detail]


def assert_422_naming(response: requests.Response, where: str, field: str) -> None:
    assert response.status_code == 422, response.text
    assert [where, field] in [loc[:2] for loc in locs(response)], response.text


# -- health / docs / status page ------------------------------------------------
def test_health_checks_every_dependency(http, api):
    r = http.get(api + "/health", timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == set(DEPENDENCIES)
    for name, check in body["checks"].items():
        assert check["ok"] is True, (name, check)
        assert isinstance(check["latency_ms"], (int, float)) and 0 <= check["latency_ms"] < 5000
        assert "error" not in check


def test_openapi_describes_every_endpoint(http, api):
    r = http.get(api + "/openapi.json", timeout=TIMEOUT)
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    assert {"/health", "/kv/{key}", "/items", "/items/{item_id}", "/echo", "/hits", "/info", "/"} <= set(spec["paths"])
    assert set(spec["paths"]["/kv/{key}"]) == {"get", "put", "delete"}
    assert set(spec["paths"]["/items/{item_id}"]) == {"get", "put", "delete"}


def test_status_page_is_html(http, api):
    r = http.get(api + "/", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<title>lab status</title>" in r.text
    assert 'id="services"' in r.text


def test_info_lists_the_services_with_their_host_addresses(http, api, lab_stack):
    r = http.get(api + "/info", timeout=TIMEOUT)
    assert r.status_code == 200
    services = {s["name"]: s for s in r.json()["services"]}
    assert set(services) == {"echo", "api", "redis", "postgres"}
    assert services["api"]["host_address"].endswith(f":{lab_stack.project.ports['api']}")


# -- key/value ----------------------------------------------------------------------
def test_kv_put_get_delete(http, api):
    k = key()
    value = "héllo wörld ✓ " + secrets.token_hex(8)
    r = http.put(f"{api}/kv/{k}", json={"value": value}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json() == {"key": k, "value": value}

    r = http.get(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json() == {"key": k, "value": value}

    r = http.put(f"{api}/kv/{k}", json={"value": ""}, timeout=TIMEOUT)  # overwrite, empty allowed
    assert r.status_code == 200 and r.json()["value"] == ""
    assert http.get(f"{api}/kv/{k}", timeout=TIMEOUT).json()["value"] == ""

    r = http.delete(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code == 204 and r.content == b""

    r = http.get(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code == 404
    assert k in r.json()["detail"]
    r = http.delete(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code == 404
    assert k in r.json()["detail"]


def test_kv_missing_key_is_404(http, api):
    k = key()
    r = http.get(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.json() == {"detail": f"key {k!r} not found"}


def test_kv_extra_fields_are_ignored(http, api):
    k = key()
    r = http.put(f"{api}/kv/{k}", json={"value": "v", "other": 1}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == {"key": k, "value": "v"}
    http.delete(f"{api}/kv/{k}", timeout=TIMEOUT)


# -- items -----------------------------------------------------------------------------
def test_items_crud(http, api):
    r = http.post(api + "/items", json={"name": "widget", "description": "a thing"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    item = r.json()
    assert isinstance(item["id"], int) and item["id"] >= 1
    assert item["name"] == "widget" and item["description"] == "a thing"
    assert item["created_at"] and item["updated_at"]
    url = f"{api}/items/{item['id']}"

    r = http.get(url, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == item

    r = http.put(url, json={"name": "gadget"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    replaced = r.json()
    assert replaced["id"] == item["id"]
    assert replaced["name"] == "gadget" and replaced["description"] is None  # PUT replaces
    assert replaced["created_at"] == item["created_at"]
    assert replaced["updated_at"] >= item["updated_at"]
    assert http.get(url, timeout=TIMEOUT).json() == replaced

    r = http.delete(url, timeout=TIMEOUT)
    assert r.status_code == 204 and r.content == b""
    for method in ("GET", "PUT", "DELETE"):
        r = http.request(method, url, json={"name": "x"}, timeout=TIMEOUT)
        assert r.status_code == 404, (method, r.text)
        assert r.json() == {"detail": f"item {item['id']} not found"}


def test_items_missing_is_404(http, api):
    r = http.get(f"{api}/items/{2**63 - 1}", timeout=TIMEOUT)
    assert r.status_code == 404
    assert "not found" in r.json()["detail"]


def test_items_paging(http, api):
    created = []
    for i in range(5):
        r = http.post(api + "/items", json={"name": f"page-{i}"}, timeout=TIMEOUT)
        assert r.status_code == 201
        created.append(r.json())
    try:
        r = http.get(api + "/items", timeout=TIMEOUT)
        assert r.status_code == 200
        page = r.json()
        assert page["limit"] == 20 and page["offset"] == 0  # defaults
        total = page["total"]
        assert total >= 5
        assert len(page["items"]) == min(20, total)

        # The whole collection, 2 at a time, in id order: our five are in it, in order.
        seen = []
        offset = 0
        while True:
            r = http.get(api + "/items", params={"limit": 2, "offset": offset}, timeout=TIMEOUT)
            assert r.status_code == 200
            page = r.json()
            assert page["limit"] == 2 and page["offset"] == offset
            assert len(page["items"]) <= 2
            if not page["items"]:
                break
            seen += page["items"]
            offset += 2
            assert offset <= total + 10, "paging does not terminate"
        ids = [it["id"] for it in seen]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        ours = [it["id"] for it in created]
        assert [i for i in ids if i in ours] == ours

        r = http.get(api + "/items", params={"limit": 1, "offset": 10**9}, timeout=TIMEOUT)
        assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] >= 5
    finally:
        for it in created:
            http.delete(f"{api}/items/{it['id']}", timeout=TIMEOUT)


# -- echo --------------------------------------------------------------------------------
PAYLOADS = {
    "ascii": b"hello lab",
    "non-utf8": b"\xff\xfe\x00\x80\xc3\x28 raw \x00\x01\x02" + bytes(range(256)),
    "large": os.urandom(48 * 1024),
}


@pytest.mark.parametrize("proto", ["tcp", "udp"])
@pytest.mark.parametrize("name", list(PAYLOADS))
def test_echo_returns_exactly_the_bytes(http, api, proto, name):
    payload = PAYLOADS[name]
    params = {"proto": proto} if proto == "udp" else None
    r = http.post(
        api + "/echo",
        params=params,
        data=payload,
        headers={"Content-Type": "application/octet-stream"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == payload


def test_echo_explicit_tcp_and_empty_bodies(http, api):
    r = http.post(api + "/echo?proto=tcp", data=b"\x00\xff", timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"\x00\xff"
    for proto in ("tcp", "udp"):
        r = http.post(f"{api}/echo?proto={proto}", data=b"", timeout=TIMEOUT)
        assert r.status_code == 200 and r.content == b"", proto


def test_echo_udp_limit_is_one_datagram(http, api):
    r = http.post(api + "/echo?proto=udp", data=b"x" * ECHO_UDP_MAX, timeout=TIMEOUT)
    assert r.status_code == 200 and len(r.content) == ECHO_UDP_MAX
    r = http.post(api + "/echo?proto=udp", data=b"x" * (ECHO_UDP_MAX + 1), timeout=TIMEOUT)
    assert r.status_code == 413
    assert str(ECHO_UDP_MAX) in r.json()["detail"]


# -- hits ---------------------------------------------------------------------------------
def test_hits_increments_and_peek_does_not(http, api):
    first = http.get(api + "/hits", timeout=TIMEOUT)
    assert first.status_code == 200
    n = first.json()["hits"]
    assert isinstance(n, int) and n >= 1
    second = http.get(api + "/hits", timeout=TIMEOUT).json()["hits"]
    assert second > n  # > rather than ==: another client may count too
    peek1 = http.get(api + "/hits", params={"peek": "true"}, timeout=TIMEOUT).json()["hits"]
    peek2 = http.get(api + "/hits", params={"peek": "true"}, timeout=TIMEOUT).json()["hits"]
    assert peek1 >= second
    assert peek2 == peek1  # nothing else in this module counts meanwhile
    third = http.get(api + "/hits", params={"peek": "false"}, timeout=TIMEOUT).json()["hits"]
    assert third == peek2 + 1


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method,path,body",
    [
        ("PUT", "/kv/k1", b'{"value": '),
        ("PUT", "/kv/k1", b'{"value": "x",}'),
        ("POST", "/items", b'{"name": "x"'),
        ("PUT", "/items/1", b"not json at all"),
    ],
)
def test_malformed_json_is_422_naming_the_body(http, api, method, path, body):
    r = http.request(method, api + path, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert errors[0]["type"] == "json_invalid", r.text
    assert errors[0]["loc"][0] == "body"


def test_body_that_is_not_utf8_is_422(http, api):
    r = http.put(
        api + "/kv/k1", data=b'{"value": "\xff\xfe"}', headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("PUT", "/kv/k1", {"value": 1}, "value"),
        ("PUT", "/kv/k1", {"value": None}, "value"),
        ("PUT", "/kv/k1", {"value": ["a"]}, "value"),
        ("PUT", "/kv/k1", {}, "value"),
        ("PUT", "/kv/k1", {"value": "x" * 8193}, "value"),
        ("POST", "/items", {"name": 5}, "name"),
        ("POST", "/items", {"name": ""}, "name"),
        ("POST", "/items", {"name": "x" * 201}, "name"),
        ("POST", "/items", {"name": "nul\u0000"}, "name"),
        ("POST", "/items", {"description": "no name"}, "name"),
        ("POST", "/items", {"name": "ok", "description": 3}, "description"),
        ("POST", "/items", {"name": "ok", "description": "d" * 2001}, "description"),
        ("PUT", "/items/1", {"name": {"nested": 1}}, "name"),
    ],
)
def test_wrong_body_types_are_422_naming_the_field(http, api, method, path, body, field):
    r = http.request(method, api + path, json=body, timeout=TIMEOUT)
    assert_422_naming(r, "body", field)


def test_body_that_is_not_an_object_is_422(http, api):
    for body in ([1, 2], "value", 3):
        r = http.post(api + "/items", json=body, timeout=TIMEOUT)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    "method,path,where,field",
    [
        ("GET", "/items?limit=abc", "query", "limit"),
        ("GET", "/items?limit=0", "query", "limit"),
        ("GET", "/items?limit=101", "query", "limit"),
        ("GET", "/items?offset=-1", "query", "offset"),
        ("GET", "/items?offset=1.5", "query", "offset"),
        ("GET", "/items/abc", "path", "item_id"),
        ("GET", "/items/0", "path", "item_id"),
        ("DELETE", f"/items/{2**63}", "path", "item_id"),
        ("GET", "/hits?peek=maybe", "query", "peek"),
        ("POST", "/echo?proto=icmp", "query", "proto"),
        ("GET", "/kv/.hidden", "path", "key"),
        ("GET", "/kv/sp%20ace", "path", "key"),
        ("DELETE", "/kv/" + "k" * 201, "path", "key"),
    ],
)
def test_wrong_parameter_types_are_422_naming_the_field(http, api, method, path, where, field):
    r = http.request(method, api + path, timeout=TIMEOUT)
    assert_422_naming(r, where, field)


def test_oversized_body_is_413_with_the_limit(http, api):
    big = b"x" * (BODY_LIMIT + 1)
    for method, path, headers in [
        ("PUT", "/kv/k1", {"Content-Type": "application/json"}),
        ("POST", "/items", {"Content-Type": "application/json"}),
        ("POST", "/echo", {"Content-Type": "application/octet-stream"}),
    ]:
        r = requests.request(method, api + path, data=big, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 413, (path, r.text)
        assert str(BODY_LIMIT) in r.json()["detail"], r.text
    # Exactly at the limit over TCP echo is fine.
    r = http.post(api + "/echo", data=b"y" * BODY_LIMIT, timeout=TIMEOUT)
    assert r.status_code == 200 and len(r.content) == BODY_LIMIT


def test_oversized_chunked_body_is_413(api):
    """No Content-Length: the limit is enforced while the body streams in."""

    def chunks():
        for _ in range(20):
            yield b"z" * 8192

    r = requests.put(api + "/kv/k1", data=chunks(), headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 413, r.text
    assert str(BODY_LIMIT) in r.json()["detail"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/nope"),
        ("POST", "/kv"),
        ("GET", "/items/1/extra"),
        ("DELETE", "/health/x"),
    ],
)
def test_unknown_route_is_404(http, api, method, path):
    r = http.request(method, api + path, timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_listing_the_allowed(http, api):
    r = http.post(api + "/kv/k1", timeout=TIMEOUT)
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "PUT", "DELETE"}


# -- IPv6 -----------------------------------------------------------------------------------
def test_requests_over_ipv6_loopback(lab_stack):
    p = lab_stack.project
    if not p.ipv6:
        pytest.skip("skipped: the project has no IPv6 loopback bindings")
    base = f"http://[::1]:{p.ports['api']}"
    r = requests.get(base + "/health", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    k = key()
    r = requests.put(f"{base}/kv/{k}", json={"value": "v6"}, timeout=TIMEOUT)
    assert r.status_code == 200
    # Written over ::1, read over 127.0.0.1: the same service.
    r = requests.get(f"{lab_stack.env['API_URL']}/kv/{k}", timeout=TIMEOUT)
    assert r.json() == {"key": k, "value": "v6"}
    r = requests.post(base + "/echo?proto=udp", data=b"\xff\x00v6", timeout=TIMEOUT)
    assert r.content == b"\xff\x00v6"
    assert requests.delete(f"{base}/kv/{k}", timeout=TIMEOUT).status_code == 204


# -- a dependency down ------------------------------------------------------------------------
def redis_healthy(project: str) -> bool:
    """From lab's own read of the engine: on Podman without systemd nothing runs a healthcheck unless
    asked, and `inventory.states` asks (`compose ps` would show "starting" for ever there)."""
    rows = [c for c in inventory.states(project) if c.service == "redis"]
    return bool(rows) and rows[0].state == "running" and rows[0].health == "healthy"


def test_redis_down_is_503_naming_redis(lab_stack, api):
    compose = lab_stack.project.compose()
    k = key()
    assert requests.put(f"{api}/kv/{k}", json={"value": "before"}, timeout=TIMEOUT).status_code == 200
    compose.run("stop", "redis", timeout=120)
    try:
        for method, path, body in [
            ("GET", f"/kv/{k}", None),
            ("PUT", f"/kv/{k}", {"value": "x"}),
            ("DELETE", f"/kv/{k}", None),
            ("GET", "/hits", None),
        ]:
            r = requests.request(method, api + path, json=body, timeout=TIMEOUT)
            assert r.status_code == 503, (method, path, r.text)
            assert r.json()["detail"].startswith("redis unavailable"), r.text

        r = requests.get(api + "/health", timeout=TIMEOUT)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "degraded"
        assert body["checks"]["redis"]["ok"] is False
        assert "redis" in body["checks"]["redis"]["error"]
        assert body["checks"]["postgres"]["ok"] is True and body["checks"]["echo"]["ok"] is True

        # The other dependencies still serve.
        assert requests.get(api + "/items?limit=1", timeout=TIMEOUT).status_code == 200
        assert requests.post(api + "/echo", data=b"still", timeout=TIMEOUT).content == b"still"
    finally:
        compose.run("start", "redis", timeout=120)
        back = {"interval": 0.2, "tolerate": (Exception,)}  # coming back, it refuses or times out first
        wait_for(lambda: redis_healthy(lab_stack.project.name), 90, "redis to be healthy again", **back)
        wait_for(lambda: requests.get(api + "/health", timeout=TIMEOUT).status_code == 200, 60, "/health 200", **back)
        wait_for(lambda: requests.get(api + "/hits?peek=true", timeout=TIMEOUT).ok, 30, "/hits to answer", **back)
    r = requests.get(f"{api}/kv/{k}", timeout=TIMEOUT)
    assert r.status_code in (200, 404), r.text  # redis back (whether it kept the key depends on persistence)
