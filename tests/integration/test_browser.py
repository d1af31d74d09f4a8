"""The browser is a neighbour too: DNS rebinding and cross-site writes, in a real Chromium.

Headless Chromium with `--host-resolver-rules` plays the attacker: `rebind.test` and `attacker.test`
resolve to 127.0.0.1 (what a rebinding DNS server makes them do). The positive control is a canary
HTTP server on a free loopback port that, like an unguarded dev server, accepts any Host and any
Origin: every attack must succeed against it in the same run, and fail against the lab's API.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lab.verify import browser as browser_check
from lab.verify.checks import Status
from tests.integration.chromium import chromium
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

REBIND, ATTACKER = "rebind.test", "attacker.test"
RESOLVE = f"--host-resolver-rules=MAP {REBIND} 127.0.0.1, MAP {ATTACKER} 127.0.0.1"
NO_UPGRADE = "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"


@dataclass
class Canary:
    port: int
    secret: str
    posts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (path, origin, body)


@pytest.fixture
def canary():
    """An HTTP server that answers anyone: any Host, any Origin, CORS and PNA granted to all."""
    state = Canary(0, f"canary-{secrets.token_hex(4)}")

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, kind: str = "application/json", extra=()) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/secret":
                self._send(200, json.dumps({"secret": state.secret}).encode())
            else:
                self._send(200, b"<!doctype html><title>page</title>", "text/html")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.posts.append((self.path, self.headers.get("Origin", ""), body))
            self._send(200, body, "text/plain")

        def do_OPTIONS(self):
            self._send(
                204,
                b"",
                extra=(("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Private-Network", "true")),
            )

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_verify_s_browser_check_fails_on_the_canary(canary):
    results = browser_check.attacks(f"127.0.0.1:{canary.port}", "/secret", "/echo")
    assert [(attack, refused) for attack, refused, _ in results] == [
        ("DNS rebinding", False),
        ("cross-origin write", False),
        ("private network preflight", False),
    ]


def test_verify_s_browser_check_passes_on_the_api(lab_stack):
    p = lab_stack.project
    checks = browser_check.check(p.endpoints("api"))
    assert len(checks) == 3 * len(p.hosts)
    assert [c for c in checks if c.status != Status.PASS] == []


READ = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(async r => done({status: r.status, body: await r.text()}),
                         e => done({status: -1, body: String(e)}));
"""
NO_CORS_POST = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {method: "POST", mode: "no-cors", body: "PING"})
  .then(r => done({type: r.type}), e => done({error: String(e)}));
"""
# The classic cross-site JSON write: a text/plain form whose name=value pair spells a JSON body.
FORM_POST = """
const form = document.createElement("form");
form.method = "POST"; form.enctype = "text/plain"; form.action = arguments[0];
const field = document.createElement("input");
field.name = '{"name": "pwned", "value": "pwned", "x": "'; field.value = '"}';
form.appendChild(field); document.body.appendChild(form); form.submit();
"""


def statuses(driver, url: str) -> list[int]:
    """HTTP statuses the browser received for `url` (DevTools network log)."""
    found = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.responseReceived" and msg["params"]["response"]["url"] == url:
            found.append(msg["params"]["response"]["status"])
    return found


def form_post(driver, page: str, action: str) -> None:
    driver.get(page)
    driver.execute_script(FORM_POST, action)
    wait_for(lambda: driver.current_url == action, 10, f"the form reaching {action}")


def test_in_chromium_rebinding_and_cross_site_writes_reach_the_canary_but_not_the_api(lab_stack, canary):
    port = lab_stack.project.ports["api"]
    api = f"http://127.0.0.1:{port}"
    s = requests.Session()
    s.trust_env = False
    secret = f"s3cret-{secrets.token_hex(4)}"
    assert s.put(f"{api}/kv/rebind-secret", json={"value": secret}).status_code == 200
    s.delete(f"{api}/kv/form-key")
    items_before = s.get(f"{api}/items", params={"limit": 100}).json()["total"]

    with chromium(RESOLVE, NO_UPGRADE, network_log=True) as d:
        # DNS rebinding: the attacker's script runs in origin http://rebind.test:<port>, which now
        # resolves to 127.0.0.1, so its fetches are "same-origin" and carry Host rebind.test:<port>.
        d.get(f"http://{REBIND}:{port}/")
        got = d.execute_async_script(READ, "/kv/rebind-secret")
        assert got["status"] == 421 and secret not in got["body"]
        d.get(f"http://{REBIND}:{canary.port}/")
        got = d.execute_async_script(READ, "/secret")
        assert got["status"] == 200 and canary.secret in got["body"]  # the same attack works on the canary

        # Cross-site writes from a page on another origin: a no-cors fetch and a plain HTML form.
        page = f"http://{ATTACKER}:{canary.port}/page"
        d.get(page)
        d.get_log("performance")  # start the network log here
        for target in (api, f"http://127.0.0.1:{canary.port}"):
            assert d.execute_async_script(NO_CORS_POST, f"{target}/echo") == {"type": "opaque"}
        api_echo = statuses(d, f"{api}/echo")
        for target in (api, f"http://127.0.0.1:{canary.port}"):
            form_post(d, page, f"{target}/items")
            form_post(d, page, f"{target}/kv/form-key")

    assert api_echo == [403]  # the browser sent it; the API refused it
    items = s.get(f"{api}/items", params={"limit": 100}).json()
    assert items["total"] == items_before and not [i for i in items["items"] if i["name"] == "pwned"]
    assert s.get(f"{api}/kv/form-key").status_code == 404
    assert s.get(f"{api}/kv/rebind-secret").json()["value"] == secret
    origin = f"http://{ATTACKER}:{canary.port}"
    assert [(path, o) for path, o, _ in canary.posts] == [
        ("/echo", origin),
        ("/items", origin),
        ("/kv/form-key", origin),
    ]
    assert canary.posts[0][2] == b"PING" and b'"name": "pwned"' in canary.posts[1][2]
