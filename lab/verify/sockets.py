"""Host sockets: listeners and bound UDP sockets on the stack's ports, loopback only."""

from __future__ import annotations

from lab import addr
from lab.ports import holders
from lab.verify.checks import FAIL, PASS, Check


def check(ports: set[tuple[int, str]]) -> list[Check]:
    checks = []
    found = [h for h in holders({p for p, _ in ports}) if (h.port, h.protocol) in ports]
    for h in found:
        target = f"{h.protocol}/{h.address}:{h.port}"
        who = h.command.split()[0].rsplit("/", 1)[-1] if h.command and h.command != "?" else "unknown"
        if h.is_loopback:
            checks.append(Check("sockets", target, PASS, f"loopback only ({who})"))
        else:
            checks.append(Check("sockets", target, FAIL, f"{addr.describe(h.address)} held by {h.describe()}"))
    seen = {(h.port, h.protocol) for h in found}
    for port, proto in sorted(ports - seen):
        checks.append(Check("sockets", f"{proto}/*:{port}", FAIL, "nothing listening (service down?)"))
    return checks
