"""Host and Origin checks and the error mapping, in-process (see conftest.py)."""

import pytest

from tests.unit.api.conftest import PUBLISHED


@pytest.mark.parametrize(
    "host",
    [
        f"127.0.0.1:{PUBLISHED}",
        f"[::1]:{PUBLISHED}",
        f"localhost:{PUBLISHED}",
        f"LOCALHOST:{PUBLISHED}",
        "127.0.0.1:5000",
        "api:5000",
    ],
)
def test_our_own_names_are_answered(client, host):
    assert client.get("/info", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:15000",
        "rebind.test",
        f"127.0.0.1:{PUBLISHED + 1}",
        "127.0.0.1",
        f"127.0.0.2:{PUBLISHED}",
        f"api:{PUBLISHED}",
        "",
        "[::1",
        f"evil@127.0.0.1:{PUBLISHED}",
    ],
)
def test_any_other_host_is_refused_with_421_naming_the_accepted_ones(client, host):
    r = client.get("/info", headers={"host": host})
    assert r.status_code == 421
    assert f"127.0.0.1:{PUBLISHED}" in r.json()["detail"] and f"[::1]:{PUBLISHED}" in r.json()["detail"]


def test_the_host_check_covers_the_fast_paths_and_every_method(client):
    for method, path in (("GET", "/hits"), ("GET", "/kv/a"), ("GET", "/"), ("PUT", "/kv/a"), ("OPTIONS", "/kv/a")):
        assert client.request(method, path, headers={"host": "rebind.test:15000"}).status_code == 421


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/echo"),
        ("PUT", "/kv/a"),
        ("DELETE", "/kv/a"),
        ("POST", "/items"),
        ("DELETE", "/items/1"),
        ("PATCH", "/kv/a"),
    ],
)
@pytest.mark.parametrize(
    "origin", ["http://attacker.example", "null", f"http://127.0.0.1:{PUBLISHED + 1}", f"https://127.0.0.1:{PUBLISHED}"]
)
def test_cross_origin_writes_are_refused(client, method, path, origin):
    r = client.request(method, path, headers={"origin": origin, "content-type": "text/plain"}, content=b"PING")
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]


def test_same_origin_and_origin_less_writes_go_through_to_the_route(client):
    """They reach the route, which then meets the dead echo (503): the guard did not stop them."""
    for headers in ({}, {"origin": f"http://127.0.0.1:{PUBLISHED}"}, {"origin": f"http://[::1]:{PUBLISHED}"}):
        r = client.post("/echo", headers=headers, content=b"PING")
        assert r.status_code == 503 and r.json()["detail"].startswith("echo unavailable")


def test_reads_with_a_foreign_origin_get_no_cors_grant(client):
    r = client.get("/info", headers={"origin": "http://attacker.example"})
    assert r.status_code == 200 and not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_a_private_network_access_preflight_is_never_granted(client):
    r = client.options(
        "/kv/a",
        headers={
            "origin": "http://attacker.example",
            "access-control-request-method": "PUT",
            "access-control-request-private-network": "true",
        },
    )
    assert r.status_code >= 400
    assert r.headers.get("access-control-allow-private-network") is None
    assert r.headers.get("access-control-allow-origin") is None


def test_error_mapping(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/items/0").status_code == 422
    assert client.put("/kv/a", content=b"{}", headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/items", content=b"x", headers={"content-type": "text/plain"}).status_code == 422
    big = client.post("/echo", content=b"x" * (64 * 1024 + 1))
    assert big.status_code == 413 and "limit is 65536 bytes" in big.json()["detail"]
    assert client.put("/kv/a", json={"value": "v"}).json()["detail"].startswith("redis unavailable")
    down = client.get("/health")
    assert down.status_code == 503 and down.json()["status"] == "degraded"
    assert set(down.json()["checks"]) == {"redis", "postgres", "echo"}
    r = client.delete("/hits")
    assert r.status_code == 405 and r.headers["allow"] == "GET"


@pytest.mark.parametrize(
    "site, mode, status",
    [
        ("cross-site", "no-cors", 403),
        ("same-site", "cors", 403),
        ("cross-site", "navigate", 503),
        ("same-origin", "cors", 503),
        ("none", "navigate", 503),
    ],
)
def test_fetch_metadata_keeps_other_sites_pages_out_even_for_gets(client, site, mode, status):
    """An <img src=".../hits"> elsewhere would count a hit: refused. The user's own navigation is not."""
    r = client.get("/hits", headers={"sec-fetch-site": site, "sec-fetch-mode": mode})
    assert r.status_code == status  # 503: it got through to the route (redis is down here)


def test_the_host_checks_shortcut_accepts_only_what_the_parser_accepts(settings):
    """HostCheck answers the usual spellings from a set; each of them must parse to an allowed pair."""
    from starlette._utils import parse_host_header

    from app.guards import HostCheck

    check = HostCheck(None, settings.allowed_hosts())
    assert {f"127.0.0.1:{PUBLISHED}".encode(), f"[::1]:{PUBLISHED}".encode(), b"api:5000"} <= check.exact
    for raw in check.exact:
        parsed = parse_host_header(raw.decode("latin-1"))
        assert (parsed.host.lower(), int(parsed.port)) in settings.allowed_hosts()
