"""`lab status`: one row per service of a resolved project — its state and health from the engine, and
whether each published endpoint answers now.

lab's own stack: a row for every catalogue service (a missing one says "absent"), its endpoints probed by
protocol when this user holds its credentials, by a connect and an HTTP GET otherwise. Any other project:
a row per service the engine knows, its published ports probed by connect and HTTP GET; a service that
publishes nothing is not a failure there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lab import inventory
from lab.catalogue import SERVICES, Endpoint
from lab.errors import NoSuchProject
from lab.readiness import Result, probe_all
from lab.resolve import Resolved


@dataclass(frozen=True)
class ServiceRow:
    service: str
    addresses: str
    state: str
    detail: str  # what failed, or "answers", or "-" when nothing was probed
    answers: bool  # every probe answered (nothing to probe counts only where nothing is promised)

    def as_dict(self) -> dict[str, str]:
        return {"service": self.service, "addresses": self.addresses, "state": self.state, "detail": self.detail}


def _probe(endpoints: list[Endpoint], r: Resolved, timeout: float) -> list[Result]:
    creds = r.credentials
    if r.by_lab and creds is not None:
        return probe_all(endpoints, creds, timeout)
    from lab.verify import generic

    with ThreadPoolExecutor(max_workers=max(1, min(64, len(endpoints)))) as pool:
        seen = list(pool.map(lambda e: generic.probe(e, timeout), endpoints))
    return [Result(e, s.reached is not False, s.detail) for e, s in zip(endpoints, seen, strict=True)]


def rows(r: Resolved, probe_timeout: float = 1.0, results: list[Result] | None = None) -> list[ServiceRow]:
    """`results`: readiness results the caller has already (`lab up`'s wait), instead of a new probe."""
    states = {c.service: c for c in inventory.states(r.name, r.listed)}
    if not states:
        raise NoSuchProject(f"project {r.name} has no containers")
    endpoints = r.promised.endpoints() if r.by_lab else r.endpoints
    if results is None:
        results = _probe(endpoints, r, probe_timeout)
    out = []
    for service in [s.name for s in SERVICES] if r.by_lab else list(states):
        c = states.get(service)
        mine = [x for x in results if x.endpoint.service == service]
        state = "absent" if c is None else (f"{c.state} ({_health(c.health)})" if c.health else c.state)
        failing = [f"{x.endpoint}: {x.detail}" for x in mine if not x.ok]
        detail = "; ".join(failing) if failing else ("answers" if mine else "-")
        addresses = " ".join(sorted({str(e) for e in endpoints if e.service == service}))
        out.append(ServiceRow(service, addresses, state, detail, not failing and (bool(mine) or not r.by_lab)))
    return out


def _health(health: str) -> str:
    """The engine's health status, as `docker ps` words it: "starting" is its own check not yet run (every
    5 s), not a service that does not answer (the PROBE column says whether it does)."""
    return "health: starting" if health == "starting" else health
