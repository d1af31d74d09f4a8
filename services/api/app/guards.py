"""The browser is a neighbour too: DNS rebinding and cross-site writes.

A port bound to 127.0.0.1 is reachable from every page the user opens. Two checks, outermost of all
middleware (before the /hits fast path), so nothing is answered to a page that is not ours:

- HostCheck: a rebinding page's requests carry its own name in `Host` ("rebind.test:5000"), with or
  without an `Origin` (a same-origin GET has none), so every request must be addressed to one of this
  API's own names on its own port: 127.0.0.1, [::1], localhost on the published port (and on 5000 inside
  the container, for the healthcheck), or `api:5000` on the private network. Anything else: 421.
  The header is parsed by Starlette's own parser (the one TrustedHostMiddleware uses); we compare
  (host, port) pairs, since TrustedHostMiddleware compares names only and answers a bare 400.
- OriginCheck: a state-changing request (anything but GET/HEAD/OPTIONS) that carries an `Origin` other
  than this API's own pages' (on the published port) is refused with 403, so a page elsewhere cannot write
  or use the echo relay, even with `no-cors` or a plain HTML form; and any request a browser marks
  `Sec-Fetch-Site: cross-site`/`same-site` (other than a navigation) is refused too. No CORS or Private
  Network Access header is ever granted.
(Vite's `server.allowedHosts`, GHSA-vg6x-rcgg-rjx6, and webpack-dev-server's `allowedHosts` exist for
the same attack.)
"""

from __future__ import annotations

import json

from starlette._utils import parse_host_header  # Starlette's Host parser (validates IPv6 literals)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _raw_header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def _header(scope, name: bytes) -> str | None:
    value = _raw_header(scope, name)
    return None if value is None else value.decode("latin-1")


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HostCheck:
    def __init__(self, app, allowed: frozenset[tuple[str, int]]) -> None:
        self.app = app
        self.allowed = allowed
        self.listing = ", ".join(sorted(f"{h}:{p}" for h, p in allowed))
        # The usual spelling of each allowed pair, as raw header bytes: a hit here skips the parser. Kept
        # only where the parser gives the same answer, so the check itself is unchanged.
        spellings = {f"{h}:{p}": (h, p) for h, p in allowed}
        self.exact = frozenset(
            raw.encode("latin-1")
            for raw, pair in spellings.items()
            if (parsed := parse_host_header(raw)) and (parsed.host.lower(), int(parsed.port or 0)) == pair
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        value = _raw_header(scope, b"host")
        if value in self.exact:
            return await self.app(scope, receive, send)
        raw = None if value is None else value.decode("latin-1")
        parsed = parse_host_header(raw)
        port = int(parsed.port) if parsed and parsed.port else None
        if parsed and (parsed.host.lower(), port) in self.allowed:
            return await self.app(scope, receive, send)
        await _refuse(send, 421, f"this API answers only requests for {self.listing}, not {raw!r}")


class OriginCheck:
    def __init__(self, app, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # Fetch Metadata: a browser says where a request comes from on every request, GETs included (an
        # <img> pointing at /hits would count). Only our own pages and the user's own navigation get in;
        # clients that are not browsers send no Sec-Fetch-* header and are unaffected.
        site = _header(scope, b"sec-fetch-site")
        if site not in (None, "same-origin", "none") and _header(scope, b"sec-fetch-mode") != "navigate":
            return await _refuse(send, 403, f"{site} request refused: only this API's own pages may call it")
        if scope["method"] in SAFE_METHODS:
            return await self.app(scope, receive, send)
        origin = _header(scope, b"origin")
        if origin is None or origin.lower() in self.allowed:
            return await self.app(scope, receive, send)
        await _refuse(send, 403, f"cross-origin {scope['method']} refused: origin {origin!r} is not this API")
