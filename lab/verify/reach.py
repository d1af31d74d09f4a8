"""Reachability: every service answers its real protocol on every loopback address."""

from __future__ import annotations

from lab.catalogue import Endpoint
from lab.credentials import Credentials
from lab.readiness import probe_all
from lab.verify.checks import FAIL, PASS, Check


def check(endpoints: list[Endpoint], creds: Credentials, timeout: float = 2.0) -> list[Check]:
    return [
        Check("reach", f"{r.endpoint.service} {r.endpoint}", PASS if r.ok else FAIL, r.detail)
        for r in probe_all(endpoints, creds, timeout)
    ]
