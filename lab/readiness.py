"""Readiness: poll every service's real protocol probe at short intervals until all answer.

Time is injectable (clock, sleep) so the loop is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lab import timeline
from lab.catalogue import BY_NAME, Endpoint
from lab.catalogue.spec import Credentials
from lab.compose_cli import ContainerState
from lab.errors import NotReady, ProbeFailed


@dataclass(frozen=True)
class Result:
    endpoint: Endpoint
    ok: bool
    detail: str


def probe_one(endpoint: Endpoint, creds: Credentials, timeout: float) -> Result:
    try:
        return Result(endpoint, True, BY_NAME[endpoint.service].probe(endpoint, creds, timeout))
    except ProbeFailed as exc:
        return Result(endpoint, False, exc.reason)


def probe_all(endpoints: list[Endpoint], creds: Credentials, timeout: float = 2.0) -> list[Result]:
    """Probe endpoints concurrently (they are independent); results in input order."""
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(endpoints))) as pool:
        return list(pool.map(lambda e: probe_one(e, creds, timeout), endpoints))


# A round of probes lasts as long as its slowest: a UDP probe of an echo not up yet waits out its whole
# timeout (docker-proxy takes the datagram, nobody answers). Short at first, since an up service answers
# within milliseconds; longer once the wait drags on, so a very loaded machine still gets its answers.
FIRST_PROBE_TIMEOUT = 0.3
LATE_PROBE_TIMEOUT = 2.0
LATE_AFTER = 5.0


def _probe_rounds(endpoints: list[Endpoint], creds: Credentials, waited: float) -> list[Result]:
    return probe_all(endpoints, creds, FIRST_PROBE_TIMEOUT if waited < LATE_AFTER else LATE_PROBE_TIMEOUT)


# Restarts seen while lab waits that make a crash loop. Podman restarts a failing container at once, about ten
# times a second, and between restarts shows it "running" with exit code 0 (or "stopped"): its state alone
# never said it died, and `lab up` waited out its whole timeout. Docker says "restarting", with the exit code.
CRASH_LOOP = 2


def died(states: list[ContainerState], restarts_before: dict[str, int]) -> tuple[str, str] | None:
    """The first service whose container died, and how; None while every one may still come up. Dead,
    exited with a failure (Podman: "stopped"), restarting after one, or restarted CRASH_LOOP times since
    `restarts_before` (container name: restarts) was read. An exit with code 0 is a one-shot job done (a
    migration others wait for with `service_completed_successfully`), not a death."""
    for c in states:
        if c.state == "dead" or (c.state in ("exited", "stopped") and c.exit_code):
            return c.service, f"its container exited (code {c.exit_code})"
        if c.state == "restarting" and c.exit_code:
            return c.service, f"its container exited (code {c.exit_code}) and keeps restarting"
        again = c.restarts - restarts_before.get(c.name, c.restarts)
        if again >= CRASH_LOOP:
            return c.service, f"its container exited and keeps restarting ({again} restarts while lab waited)"
    return None


def watch_deaths(read: Callable[[], list[ContainerState]]) -> Callable[[], tuple[str, str] | None]:
    """`check_alive` for `wait_until_ready` over `read()` (the project's containers): restarts counted from
    the first read, so a restart before this wait (a crash long since healed) is no death."""
    before: dict[str, int] | None = None

    def check() -> tuple[str, str] | None:
        nonlocal before
        states = read()
        if before is None:
            before = {c.name: c.restarts for c in states}
        return died(states, before)

    return check


def wait_until_ready(
    endpoints: list[Endpoint],
    creds: Credentials,
    timeout: float = 180.0,
    interval: float = 0.1,
    check_alive: Callable[[], tuple[str, str] | None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    probe: Callable[[list[Endpoint], Credentials], list[Result]] | None = None,
) -> list[Result]:
    """Return once every endpoint answered; raise NotReady naming the laggard otherwise.

    `check_alive` returns a service whose container died, and how (then waiting is pointless).
    """
    start = clock()
    deadline = start + timeout
    pending = list(endpoints)
    done: dict[Endpoint, Result] = {}
    last: dict[Endpoint, Result] = {}
    while True:
        found = probe(pending, creds) if probe else _probe_rounds(pending, creds, clock() - start)
        for result in found:
            (done if result.ok else last)[result.endpoint] = result
            if result.ok:
                timeline.mark("ready", service=result.endpoint.service, endpoint=str(result.endpoint))
        pending = [e for e in pending if e not in done]
        if not pending:
            return [done[e] for e in endpoints]
        dead = check_alive()
        if dead:
            raise NotReady(*dead)
        if clock() >= deadline:
            first = pending[0]
            raise NotReady(
                first.service,
                f"no answer at {first} within {timeout:.0f} s "
                f"(last: {last[first].detail if first in last else 'not probed'})",
            )
        sleep(interval)
