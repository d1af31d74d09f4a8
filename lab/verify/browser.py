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


def attacks(host_port: str, read: str, write: str, timeout: float = 2.0) -> list[tuple[str, bool, str]]:
    """(attack, refused?, what came back) for the three attacks on one HTTP address ("127.0.0.1:5000")."""
    import requests  # heavy (~0.2 s); only probes need it

    port = host_port.rsplit(":", 1)[1]
    base = f"http://{host_port}"
    out = []
    with requests.Session() as s:
        s.trust_env = False  # an http_proxy in the environment must not carry loopback traffic
        try:
            r = s.get(base + read, headers={"Host": f"{REBIND_NAME}:{port}"}, timeout=timeout)
            out.append(
                (
                    "DNS rebinding",
                    r.status_code in REFUSALS,
                    f"GET {read} as Host {REBIND_NAME}:{port} -> {r.status_code}",
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
                    r.status_code in REFUSALS,
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


def check(endpoints: list[Endpoint]) -> list[Check]:
    """Every HTTP endpoint at once: a hung service costs one timeout, not one per address."""
    from concurrent.futures import ThreadPoolExecutor

    targets = [
        (e, BY_NAME[e.service].web)
        for e in endpoints
        if e.service in BY_NAME and BY_NAME[e.service].web and e.protocol == "tcp"
    ]
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        results = list(pool.map(lambda t: attacks(t[0].address, t[1].read, t[1].write), targets))
    return [
        Check(
            "browser",
            f"{e.service} {e} {attack}",
            PASS if refused else FAIL,
            ("refused: " if refused else "NOT REFUSED: ") + detail,
        )
        for (e, _), found in zip(targets, results, strict=True)
        for attack, refused, detail in found
    ]
