"""Firewall: are lab's raw-table rules in place, and where one is missing, what did the probe see?

The neighbour probe is the verdict; this check says why. A missing rule fails when the probe reached
something along the path it guards (or could not look): then the fix is that rule. Where the probe
reached nothing without it, the engine's own rules held, and that is reported as such, never
inferred from the engine's version.
"""

from __future__ import annotations

from lab import addr, engine, harden, inventory
from lab.verify.checks import FAIL, PASS, SKIP, Check


def _guards(rule: harden.Rule, target: str) -> bool:
    """Does `rule` guard the neighbour path named by `target` (see neighbour.label)?

    "tcp/6379 via 127.0.0.1 routed via host" -> 127.0.0.1; "tcp/6379 direct to redis 172.18.0.3" -> 172.18.0.3.
    """
    if " direct to " in target:
        host = target.rsplit(" ", 1)[-1]
    elif target.endswith(" routed via host"):
        host = target.split(" via ", 1)[1].split()[0]
    else:
        return False
    return addr.within(host, rule.destination)


def check(project: str, neighbour: list[Check]) -> list[Check]:
    why = harden.can_harden()
    probed = not any(c.target == "namespace probe" for c in neighbour)  # the probe itself ran
    if why:
        return [Check("firewall", "lab's raw-table rules", SKIP, f"cannot read the raw table ({why})")]
    version = engine.version()
    checks = [_elsewhere(net.name, subnet, neighbour, probed) for net in inventory.networks(project)
              if not net.on_host for subnet in net.subnets]  # fmt: skip
    for rule in harden.wanted(project):
        target = f"{rule.tool} raw -d {rule.destination} ! -i {rule.interface}"
        if harden.present(rule):
            checks.append(Check("firewall", target, PASS, "in place"))
            continue
        reached = [c.target for c in neighbour if c.status == FAIL and _guards(rule, c.target)]
        fix = f"run `lab harden --project {project}`"
        if rule.interface != "lo":  # the probe tries declared ports only: it cannot vouch for the rest
            detail = f"missing; {fix}" + (
                f" (a neighbour reached {len(reached)} target(s) it guards)" if reached else ""
            )
            checks.append(Check("firewall", target, FAIL, detail))
        elif reached:
            checks.append(
                Check(
                    "firewall",
                    target,
                    FAIL,
                    f"missing, and a neighbour reached {len(reached)} target(s) it guards; {fix}",
                )
            )
        elif not probed:
            checks.append(Check("firewall", target, FAIL, f"missing, and the neighbour probe could not run; {fix}"))
        else:
            checks.append(
                Check(
                    "firewall",
                    target,
                    PASS,
                    f"missing, but the probe reached nothing it guards (docker {version}'s own rules held)",
                )
            )
    return checks


def _elsewhere(name: str, subnet: str, neighbour: list[Check], probed: bool) -> Check:
    """A network whose bridge is not on this host (a rootless engine's) wants no rule here — a pass only
    when the probe tried its containers and reached none of them."""
    tried = [c for c in neighbour if " direct to " in c.target and addr.within(c.target.rsplit(" ", 1)[-1], subnet)]
    if not probed or not tried:
        return Check("firewall", f"{name} {subnet}", SKIP, "not on this host; the probe did not try it")
    if any(c.status == FAIL for c in tried):
        return Check("firewall", f"{name} {subnet}", FAIL, "not on this host, yet the probe reached it")
    return Check("firewall", f"{name} {subnet}", PASS, f"no rule needed: not on this host ({len(tried)} tried)")
