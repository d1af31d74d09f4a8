"""Engine: its version, whether it has the 28.0.0 loopback fix, whether our mitigation is in place."""
from __future__ import annotations

from lab import engine, harden
from lab.verify.checks import FAIL, PASS, Check


def check() -> list[Check]:
    version = engine.version()
    if engine.has_loopback_fix(version):
        return [Check("engine", f"docker {version}", PASS, "has the 28.0.0 fix for loopback-published ports")]
    if harden.can_harden():
        return [Check("engine", f"docker {version}", FAIL,
                      "lacks the 28.0.0 loopback fix; cannot read the raw table to see if `lab harden` is in place "
                      f"({harden.can_harden()})")]
    state = harden.state()
    if state.get("127.0.0.0/8"):
        return [Check("engine", f"docker {version}", PASS, "lacks the 28.0.0 loopback fix; `lab harden` rules in place"
                      + ("" if state.get("::1/128") else " (IPv4 only)"))]
    return [Check("engine", f"docker {version}", FAIL,
                  "lacks the 28.0.0 loopback fix and `lab harden` is not in place: neighbours can reach 127.0.0.1 ports")]
