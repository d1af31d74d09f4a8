"""Static audit: what compose will really do (`compose config`: override files and env count)."""
from __future__ import annotations

import json
from pathlib import Path

from lab import composefile
from lab.compose_cli import Compose
from lab.errors import ComposeFailed
from lab.verify.checks import FAIL, PASS, Check, describe_host, loopback_host


def audit_config(config: dict) -> list[Check]:
    """Every published port must carry a loopback host_ip; host networking is an exposure too."""
    checks = []
    for name, svc in sorted((config.get("services") or {}).items()):
        if svc.get("network_mode") == "host":
            checks.append(Check("static", name, FAIL, "network_mode: host (listens on every host interface)"))
        for port in svc.get("ports") or []:
            target = f"{name} {port.get('protocol', 'tcp')}/{port.get('published') or '?'}->{port.get('target')}"
            host = port.get("host_ip")
            if loopback_host(host):
                checks.append(Check("static", target, PASS, f"host_ip {host}"))
            else:
                checks.append(Check("static", target, FAIL, describe_host(host)))
    return checks


def check(compose: Compose, root: Path) -> list[Check]:
    try:
        config = json.loads(compose.run("config", "--format", "json", timeout=60).stdout)
    except (ComposeFailed, ValueError) as exc:
        return [Check("static", "compose config", FAIL, f"could not evaluate: {str(exc)[:160]}")]
    checks = audit_config(config)
    drift = composefile.check(root)
    checks.append(Check("static", "compose.yaml vs catalogue", FAIL if drift else PASS,
                        "; ".join(f"{d.path.name} {d.reason}" for d in drift) + " (run `lab generate`)"
                        if drift else "generated files match the catalogue"))
    return checks
