"""Reachability: every published port answers on its loopback address — the real protocol where the
catalogue knows the service (and lab holds its credentials), a connect and an HTTP GET elsewhere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lab.catalogue import BY_NAME, Endpoint
from lab.credentials import Credentials
from lab.readiness import probe_all
from lab.verify import generic
from lab.verify.checks import FAIL, PASS, SKIP, Check


def check(endpoints: list[Endpoint], creds: Credentials | None, timeout: float = 2.0) -> list[Check]:
    known = [e for e in endpoints if creds is not None and e.service in BY_NAME]
    other = [e for e in endpoints if e not in known]
    checks = (
        [
            Check("reach", f"{r.endpoint.service} {r.endpoint}", PASS if r.ok else FAIL, r.detail)
            for r in probe_all(known, creds, timeout)
        ]
        if known
        else []
    )
    if other:
        with ThreadPoolExecutor(max_workers=min(128, len(other))) as pool:  # each mostly waits on a socket
            seen = list(pool.map(lambda e: generic.probe(e, timeout), other))
        checks += [
            Check("reach", f"{e.service} {e}", SKIP if s.reached is None else PASS if s.reached else FAIL, s.detail)
            for e, s in zip(other, seen, strict=True)
        ]
    return checks
