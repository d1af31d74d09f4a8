"""Browser: a web page the user opens is a neighbour too.

A port bound to 127.0.0.1 is reachable from every page in the user's browser. For every HTTP service,
on every loopback address, verify plays that page the way a browser would send its requests:
  - DNS rebinding: a page whose name now resolves to 127.0.0.1 reads the service "same-origin", so
    its requests carry the page's own name in `Host` (and, for a GET, no `Origin`): must be refused;
  - a cross-site write: a POST carrying a foreign `Origin` (what `fetch(…, {mode: "no-cors"})` and HTML
    forms send): must be refused;
  - a Private Network Access preflight from a foreign origin: must not be granted
    (`Access-Control-Allow-Private-Network: true`) nor given a CORS grant for that origin.
The proof in a real browser is tests/integration/test_browser.py; this is the check that runs every time.
"""

from __future__ import annotations

from lab.catalogue import BY_NAME, Endpoint
from lab.verify.checks import FAIL, PASS, Check

REBIND_NAME = "rebind.test"
FOREIGN_ORIGIN = "http://attacker.test"
REFUSALS = (400, 403, 421)  # what a Host or Origin guard answers


ANY_HOST = (
    "it answers any Host: any page the user opens can read it (DNS rebinding); make the server check Host "
    "(Django ALLOWED_HOSTS, Vite server.allowedHosts, webpack-dev-server allowedHosts, Rails config.hosts)"
)


def attacks(
    host_port: str, read: str, write: str, timeout: float = 2.0, baseline: int | None = None
) -> list[tuple[str, bool, str]]:
    """(attack, refused?, what came back) for the three attacks on one HTTP address ("127.0.0.1:5000").

    `baseline` is set for a server lab does not know: the status its `read` gives with its own Host.
    A refusal there is any answer the real Host does not get (a 404 for everyone is no Host check),
    and a write counts as refused when it fails (lab cannot see whether a 200 wrote anything)."""
    import requests  # heavy (~0.2 s); only probes need it

    port = host_port.rsplit(":", 1)[1]
    base = f"http://{host_port}"
    out = []
    with requests.Session() as s:
        s.trust_env = False  # an http_proxy in the environment must not carry loopback traffic
        try:
            r = s.get(base + read, headers={"Host": f"{REBIND_NAME}:{port}"}, timeout=timeout)
            refused = r.status_code in REFUSALS or (
                baseline is not None and r.status_code >= 400 and r.status_code != baseline
            )
            out.append(
                (
                    "DNS rebinding",
                    refused,
                    f"GET {read} as Host {REBIND_NAME}:{port} -> {r.status_code}"
                    + ("" if refused or baseline is None else f"; {ANY_HOST}"),
                )
            )
            r = s.post(
                base + write,
                data=b"lab-verify",
                timeout=timeout,
                headers={"Origin": FOREIGN_ORIGIN, "Content-Type": "text/plain"},
            )
            out.append(
                (
                    "cross-origin write",
                    r.status_code in REFUSALS or (baseline is not None and r.status_code >= 400),
                    f"POST {write} from {FOREIGN_ORIGIN} -> {r.status_code}",
                )
            )
            r = s.options(
                base + read,
                timeout=timeout,
                headers={
                    "Origin": FOREIGN_ORIGIN,
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Private-Network": "true",
                },
            )
            pna = r.headers.get("Access-Control-Allow-Private-Network", "").lower() == "true"
            acao = r.headers.get("Access-Control-Allow-Origin")
            granted = pna or acao in ("*", FOREIGN_ORIGIN)
            out.append(
                (
                    "private network preflight",
                    not granted,
                    f"OPTIONS {read} -> {r.status_code}"
                    + (", Allow-Private-Network: true" if pna else "")
                    + (f", Allow-Origin: {acao}" if acao else ""),
                )
            )
        except requests.RequestException as exc:
            out.append(("browser attacks", False, f"could not test: {exc.__class__.__name__}: {str(exc)[:120]}"))
    return out


def check(endpoints: list[Endpoint], known: bool = True) -> list[Check]:
    """Every HTTP endpoint at once: a hung service costs one timeout, not one per address. `known`: the
    catalogue describes these services (lab's own project); otherwise every TCP port that answers HTTP
    is attacked at `/`."""
    from concurrent.futures import ThreadPoolExecutor

    from lab.verify import generic

    def plan(e: Endpoint) -> tuple[Endpoint, str, str, int | None] | None:
        if e.protocol != "tcp":
            return None
        if known and e.service in BY_NAME:
            web = BY_NAME[e.service].web
            return (e, web.read, web.write, None) if web else None
        status = generic.http_status(e, 2.0)
        return None if status is None else (e, "/", "/", status)

    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(endpoints))) as pool:
        targets = [t for t in pool.map(plan, endpoints) if t]
        if not targets:
            return []
        results = list(pool.map(lambda t: attacks(t[0].address, t[1], t[2], baseline=t[3]), targets))
    return [
        Check(
            "browser",
            f"{e.service} {e} {attack}",
            PASS if refused else FAIL,
            ("refused: " if refused else "NOT REFUSED: ") + detail,
        )
        for (e, *_), found in zip(targets, results, strict=True)
        for attack, refused, detail in found
    ]
