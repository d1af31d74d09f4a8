"""Firewall: are lab's raw-table rules in place, what closes each path, and is the engine's NAT in force?

The neighbour probe is the verdict; this check says why. A missing rule fails when the probe reached
something along the path it guards (or could not look): then the fix is that rule. Where the probe
reached nothing without it, whatever dropped the packets (the engine's own raw rule, read from the
table with its counter) is named, never inferred from the engine's version.
"""

from __future__ import annotations

from lab import addr, enginefacts, harden, inventory
from lab.verify.checks import FAIL, PASS, SKIP, Check
from lab.verify.neighbour import Attempt, Probe


def _guards(rule: harden.Rule, a: Attempt) -> bool:
    """Does `rule` guard the neighbour path this attempt tried?"""
    host = a.host if a.direct else a.routed_loopback
    return bool(host) and addr.within(host, rule.destination)


def check(project: str, probe: Probe) -> list[Check]:
    why = harden.can_harden()
    if why:
        return [Check("firewall", "lab's raw-table rules", SKIP, f"cannot read the raw table ({why})")]
    facts = enginefacts.facts()
    checks = [*_backend(facts), *gateway_modes(project)]
    checks += [_elsewhere(net.name, subnet, probe) for net in inventory.networks(project)
               if not net.on_host for subnet in net.subnets]  # fmt: skip
    engine_rules = [d for d in enginefacts.raw_drops() if d.owner == "engine"]
    for rule in harden.wanted(project):
        target = f"{rule.tool} raw -d {rule.destination} ! -i {rule.interface}"
        guarded = [a for a in probe.attempts if _guards(rule, a)]
        behind = _behind(rule, engine_rules)
        if harden.present(rule):
            checks.append(Check("firewall", target, PASS, "in place" + _counted(guarded) + behind))
            continue
        reached = [a for a in guarded if a.reached]
        fix = f"run `lab harden --project {project}`"
        if rule.interface != "lo":  # the probe tries declared ports only: it cannot vouch for the rest
            detail = f"missing; {fix}"
            if reached:
                detail += f" (a neighbour reached {len(reached)} target(s) it guards)"
            checks.append(Check("firewall", target, FAIL, detail + _closers(guarded)))
        elif reached:
            names = ", ".join(a.label for a in reached[:3])
            checks.append(Check("firewall", target, FAIL, f"missing, and a neighbour reached {names}; {fix}"))
        elif not probe.ran:
            checks.append(Check("firewall", target, FAIL, f"missing, and the neighbour probe could not run; {fix}"))
        else:
            checks.append(
                Check("firewall", target, PASS, "missing, but the probe reached nothing it guards" + _closers(guarded))
            )
    return checks


def _counted(guarded: list[Attempt]) -> str:
    ours = max((a.counted for a in guarded if a.closed_by.startswith("lab's")), default=0)  # one rule's counter
    return f"; it dropped {ours} of the probe's packets" if ours else ""


def _behind(rule: harden.Rule, engine_rules: list[enginefacts.RawDrop]) -> str:
    """Whether the engine's own raw rules for the paths `rule` guards are there behind lab's."""
    mine = [
        d for d in engine_rules if d.tool == rule.tool and addr.within(d.destination.split("/")[0], rule.destination)
    ]
    drops = [d for d in mine if d.verdict == "DROP"]
    # a network's trusted_host_interfaces: the engine's ACCEPT in front of its own DROP for those interfaces
    trusted = sorted({d.only_from for d in mine if d.verdict == "ACCEPT"})
    past = f" (it lets {', '.join(trusted)} past them: trusted_host_interfaces)" if trusted else ""
    if drops:
        return f"; the engine's own rules behind it: {len(drops)}{past}"
    return "; none of the engine's own behind it" + past


def _closers(guarded: list[Attempt]) -> str:
    """Who dropped what lab's missing rule would have: the rules the probe's packets met instead."""
    closers = sorted({a.closed_by for a in guarded if a.outcome == "dropped" and a.closed_by})
    return (" (closed instead by " + "; ".join(closers) + ")") if closers else ""


def _backend(facts: enginefacts.Facts) -> list[Check]:
    why = facts.lab_rules_apply
    return [Check("firewall", "engine firewall backend", FAIL, why)] if why else []


def gateway_modes(project: str) -> list[Check]:
    """A network whose gateway mode is `routed` or `nat-unprotected` publishes past the host IP of a mapping
    (routed) or without the per-port filter (nat-unprotected): read from the engine, a failure (LAB015)."""
    return [
        Check(
            "firewall",
            f"network {name} gateway mode",
            FAIL,
            ", ".join(f"{family} {mode}" for family, mode in sorted(modes.items()))
            + ": container ports are reachable past the published host IP (LAB015; moby#47871); "
            "remove the gateway_mode option and recreate the network",
        )
        for name, modes in sorted(enginefacts.unsafe_gateway_modes(project).items())
    ]


def _elsewhere(name: str, subnet: str, probe: Probe) -> Check:
    """A network whose bridge is not on this host (a rootless engine's) wants no rule here — a pass only
    when the probe tried its containers and reached none of them."""
    tried = [a for a in probe.attempts if a.direct and addr.within(a.host, subnet)]
    if not probe.ran or not tried:
        return Check("firewall", f"{name} {subnet}", SKIP, "not on this host; the probe did not try it")
    if any(a.reached for a in tried):
        return Check("firewall", f"{name} {subnet}", FAIL, "not on this host, yet the probe reached it")
    return Check("firewall", f"{name} {subnet}", PASS, f"no rule needed: not on this host ({len(tried)} tried)")
