"""Close the neighbour hole on engines before 28.0.0.

Docker 28 (moby/moby#49325) adds, per loopback-published port,
`raw PREROUTING -d 127.0.0.1 -p PROTO --dport PORT ! -i lo -j DROP`. We install one
rule per family instead: `-d 127.0.0.0/8 ! -i lo -j DROP` (and `-d ::1 ! -i lo`).
Why one rule: a packet addressed to loopback that arrives on any other interface
is never legitimate (RFC 1122 "martian"), so nothing real is dropped; and it covers
every loopback-published port of every project — including ports chosen later with
--port/--dynamic-ports and other people's containers — with nothing to keep in sync.
Rules are tagged with a comment so `--undo` removes exactly ours.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from lab.errors import LabError

COMMENT = "lab-harden: drop loopback-addressed packets from other interfaces"


@dataclass(frozen=True)
class Rule:
    tool: str  # iptables or ip6tables
    destination: str

    def spec(self) -> list[str]:
        return ["PREROUTING", "-d", self.destination, "!", "-i", "lo",
                "-m", "comment", "--comment", COMMENT, "-j", "DROP"]


RULES = (Rule("iptables", "127.0.0.0/8"), Rule("ip6tables", "::1/128"))


class HardenError(LabError):
    hint = "run as root with iptables installed (`apt-get install iptables`)"


def can_harden() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if not shutil.which("iptables"):
        return "iptables is missing"
    return None


def _run(rule: Rule, op: str) -> subprocess.CompletedProcess:
    return subprocess.run([rule.tool, "-w", "5", "-t", "raw", op, *rule.spec()], capture_output=True, text=True)


def present(rule: Rule) -> bool:
    return shutil.which(rule.tool) is not None and _run(rule, "-C").returncode == 0


def state() -> dict[str, bool]:
    """Which families are hardened (needs root to read; False when unknown)."""
    return {rule.destination: present(rule) for rule in RULES}


def apply() -> list[str]:
    """Insert missing rules (idempotent); return what was added."""
    why = can_harden()
    if why:
        raise HardenError(f"cannot harden: {why}")
    added = []
    for rule in RULES:
        if shutil.which(rule.tool) and not present(rule):
            proc = _run(rule, "-I")
            if proc.returncode != 0:
                raise HardenError(f"{rule.tool} -t raw -I PREROUTING failed: {proc.stderr.strip()[:200]}")
            added.append(f"{rule.tool} raw PREROUTING -d {rule.destination} ! -i lo DROP")
    return added


def undo() -> list[str]:
    """Remove every copy of our rules (and only ours); return what was removed."""
    why = can_harden()
    if why:
        raise HardenError(f"cannot undo hardening: {why}")
    removed = []
    for rule in RULES:
        while present(rule):
            proc = _run(rule, "-D")
            if proc.returncode != 0:
                raise HardenError(f"{rule.tool} -t raw -D PREROUTING failed: {proc.stderr.strip()[:200]}")
            removed.append(f"{rule.tool} raw PREROUTING -d {rule.destination} ! -i lo DROP")
    return removed
