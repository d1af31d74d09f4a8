"""Close what a neighbour could reach: lab's rules in the raw table, and the one decision about them.

Two holes, two kinds of rule, both `raw PREROUTING … -j DROP` (before conntrack and NAT, so no
later chain, FORWARD policy or published-port ACCEPT can let the packet through):

- Loopback: engines before 28.0.0 DNAT a packet a neighbour addresses to 127.0.0.1 into the
  container. One rule per family, `-d 127.0.0.0/8 ! -i lo` (and `-d ::1 ! -i lo`): a packet for
  loopback that arrives on another interface is never legitimate (RFC 1122 "martian"), and one rule
  covers every port of every project, including ports chosen later, with nothing to keep in sync.
  Docker 28 (moby/moby#49325) adds a narrower rule per published port.
- Direct routing: engines before 28 ACCEPT, for every published port, a packet from any interface to
  the container's own address (`-A DOCKER -d <ip> ! -i <bridge> -o <bridge> … -j ACCEPT`), so a host that
  routes the bridge subnet via this one reaches the container whatever host IP the port was published
  on; with FORWARD policy ACCEPT, unpublished ports too. One rule per subnet of each of the
  *project's own* networks: `-d <subnet> ! -i <bridge>`. Chosen over a DOCKER-USER rule because the raw
  table sees the packet before the filter table's verdicts and FORWARD policy, and it is what Docker
  28.2 itself does per container (moby/moby#49829). Scoped to the project's networks, so other people's
  containers keep whatever their engine gives them. The host's own traffic to a container (docker-proxy,
  `docker exec`-free debugging) leaves by OUTPUT, not PREROUTING, and containers of the network arrive on
  the bridge itself: neither is touched.

The decision: lab wants every one of these rules on every engine, because an engine's own rules are
not proof (CVE-2025-54388: a firewalld reload on 28.2.0–28.3.2 dropped them), and ours cost one
rule each. A rule already present (ours, or the same rule untagged) is a no-op. Whether anything is
still reachable is for the neighbour probe to say, never the version number.

Every rule is tagged with a comment; a project's rules carry its name, so `lab down` removes exactly
its own and `lab harden --undo` exactly lab's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from lab import addr, inventory
from lab.errors import HardenError

LOOPBACK_COMMENT = "lab-harden: drop loopback-addressed packets from other interfaces"
TAG = "lab-harden: "


@dataclass(frozen=True)
class Rule:
    tool: str  # iptables or ip6tables
    destination: str
    interface: str  # packets for `destination` are accepted only when they arrive on this one
    comment: str = LOOPBACK_COMMENT

    def spec(self) -> list[str]:
        return [
            "PREROUTING",
            "-d",
            self.destination,
            "!",
            "-i",
            self.interface,
            "-m",
            "comment",
            "--comment",
            self.comment,
            "-j",
            "DROP",
        ]

    def untagged(self) -> list[str]:
        return ["PREROUTING", "-d", self.destination, "!", "-i", self.interface, "-j", "DROP"]

    def __str__(self) -> str:
        return f"{self.tool} -t raw PREROUTING -d {self.destination} ! -i {self.interface} -j DROP"


COUNT = '-m comment --comment "lab-probe-count"'  # a neighbour probe's own counting rule: no verdict
LOOPBACK = (Rule("iptables", "127.0.0.0/8", "lo"), Rule("ip6tables", "::1/128", "lo"))


def project_comment(project: str) -> str:
    return f"{TAG}{project}: drop direct routing from other interfaces"


def network_rules(project: str, networks: list[inventory.Network]) -> list[Rule]:
    """One rule per subnet of each of the project's networks that is on this host (a rootless engine's are
    in its own namespace: nothing here routes into them, and there is no bridge to name)."""
    rules = []
    for net in (n for n in networks if n.on_host):
        for subnet in net.subnets:
            tool = "ip6tables" if addr.is_v6(subnet) else "iptables"
            rules.append(Rule(tool, subnet, net.bridge, project_comment(project)))
    return rules


def wanted(project: str | None) -> list[Rule]:
    """The hardening decision, made here only: every rule lab wants in place for `project`
    (the loopback pair alone when no project is named, or the project has no network yet)."""
    from lab import hostnet

    loopback = [r for r in LOOPBACK if r.tool == "iptables" or hostnet.has_ipv6_loopback()]
    return [*loopback, *(network_rules(project, inventory.networks(project)) if project else [])]


def can_harden() -> str | None:
    """None when lab can read and write the raw table; otherwise why not."""
    if os.geteuid() != 0:
        return "needs root"
    if not shutil.which("iptables"):
        return "iptables is missing"
    return None


# s: how long any of lab's iptables calls waits for the xtables lock, a bound for hangs only. Docker holds
# the lock while it publishes ports: on a loaded host 5 s ran out, a probe's guard could not be added
# (`lab ports` failed) and a removal gave up (a rule left behind); a check that fails this way would
# also read as "rule missing".
LOCK_WAIT = 30


def xtables(tool: str, *args: str, table: str = "raw") -> subprocess.CompletedProcess:
    """One iptables/ip6tables call on `table`, waiting for the xtables lock: every lab rule goes through here."""
    return subprocess.run([tool, "-w", str(LOCK_WAIT), "-t", table, *args], capture_output=True, text=True)


def present(rule: Rule) -> bool:
    """Ours is in place, or the very same rule without our tag (someone closed it already)."""
    if not shutil.which(rule.tool):
        return False
    return (
        xtables(rule.tool, "-C", *rule.spec()).returncode == 0
        or xtables(rule.tool, "-C", *rule.untagged()).returncode == 0
    )


def missing(rules: list[Rule]) -> list[Rule]:
    return [r for r in rules if shutil.which(r.tool) and not present(r)]


def apply(rules: list[Rule]) -> list[Rule]:
    """Insert the rules not in place yet (idempotent); return those added."""
    why = can_harden()
    if why:
        raise HardenError(f"cannot harden: {why}")
    added = []
    for rule in missing(rules):
        proc = xtables(rule.tool, "-I", *rule.spec())
        if proc.returncode != 0:
            raise HardenError(f"{rule.tool} -t raw -I PREROUTING failed: {proc.stderr.strip()[:200]}")
        added.append(rule)
    return added


def delete(rules: list[Rule]) -> list[Rule]:
    """Remove every copy of these exact rules; return those that were there."""
    why = can_harden()
    if why:
        raise HardenError(f"cannot remove lab's rules: {why}")
    removed = []
    for rule in rules:
        while shutil.which(rule.tool) and xtables(rule.tool, "-C", *rule.spec()).returncode == 0:
            proc = xtables(rule.tool, "-D", *rule.spec())
            if proc.returncode != 0:
                raise HardenError(f"{rule} could not be removed: {proc.stderr.strip()[:200]}")
            removed.append(rule)
    return removed


def tagged(project: str | None = None) -> list[tuple[str, list[str]]]:
    """(tool, rule spec) of lab's rules in the raw table now: a project's own, or every lab rule.

    Read back from `-S`, so they are found even after the project's network is gone.
    """
    prefix = f'--comment "{project_comment(project)}"' if project else f'--comment "{TAG}'
    found = []
    for tool in ("iptables", "ip6tables"):
        if not shutil.which(tool):
            continue
        for line in xtables(tool, "-S", "PREROUTING").stdout.splitlines():
            if line.startswith("-A PREROUTING") and prefix in line:
                found.append((tool, shlex.split(line)[1:]))
    return found


def dropping(interface: str) -> dict[str, str]:
    """Destinations the raw table drops, unconditionally, for packets arriving on `interface`: rules of the
    form `-d X [! -i Y] -j DROP` (Y not that interface; a comment allowed, no other match), lab's, Docker
    28's or anyone's. destination -> tool. {} when the table cannot be read."""
    if can_harden():
        return {}
    found: dict[str, str] = {}
    for tool in ("iptables", "ip6tables"):
        if not shutil.which(tool):
            continue
        for line in xtables(tool, "-S", "PREROUTING").stdout.splitlines():
            where = unconditional_drop(line, interface)
            if where:
                found[where] = tool
                continue
            parts = line.split()
            verdict = parts[parts.index("-j") + 1] if "-j" in parts[:-1] else ""
            if line.startswith("-A") and verdict not in ("", "DROP", "CT", "NOTRACK", "LOG", "MARK"):
                break  # an ACCEPT, RETURN or jump may let a packet past the drops after it: stop counting on them
    return found


def unconditional_drop(line: str, interface: str) -> str | None:
    """The destination of an `-S` line `-A PREROUTING -d X [! -i Y] [-m comment --comment C] -j DROP` that
    drops every packet from `interface` to X (Y is not `interface`, nothing else is matched); else None."""
    parts = shlex.split(line)
    if parts[:2] != ["-A", "PREROUTING"] or parts[-2:] != ["-j", "DROP"] or "-d" not in parts:
        return None
    rest = parts[2:-2]
    at = rest.index("-d")
    where = rest[at + 1]
    del rest[at : at + 2]
    if rest[:2] == ["!", "-i"] and len(rest) >= 3:
        if rest[2] == interface:
            return None
        del rest[:3]
    if rest[:3] == ["-m", "comment", "--comment"] and len(rest) >= 4:
        del rest[:4]
    return None if rest else where


def counting(tool: str, interface: str, destinations: list[str], remove: bool = False) -> bool:
    """Insert (or remove) rules that only count packets from `interface` to each destination, ahead of
    every DROP: one neighbour probe's own packets, whatever else the host is doing."""
    lines = [
        f"{'-D' if remove else '-I'} PREROUTING{'' if remove else ' 1'} -i {interface} -d {d} {COUNT}"
        for d in destinations
    ]
    proc = subprocess.run(
        [f"{tool}-restore", "-w", str(LOCK_WAIT), "--noflush"],
        input="*raw\n" + "\n".join(lines) + "\nCOMMIT\n",
        capture_output=True, text=True,
    )  # fmt: skip
    return proc.returncode == 0


def counted(tool: str, interface: str) -> dict[str, int]:
    """Packets the `counting` rules of `interface` saw, by destination."""
    out: dict[str, int] = {}
    for line in xtables(tool, "-v", "-S", "PREROUTING").stdout.splitlines():
        parts = shlex.split(line)
        if "lab-probe-count" in parts and interface in parts and "-d" in parts and "-c" in parts:
            out[parts[parts.index("-d") + 1]] = int(parts[parts.index("-c") + 1])
    return out


def sync(project: str) -> tuple[list[Rule], list[str]]:
    """Make the raw table hold exactly the rules lab wants for `project`: add the missing, and delete the
    project's tagged rules for a subnet or bridge it no longer has (left by `docker compose down`, or a
    network recreated). A stale rule is not harmless: its subnet may go to another network, whose
    packets it would then drop. Returns (added, removed)."""
    wanted_rules = wanted(project)
    keep = {(r.tool, tuple(r.spec()[1:])) for r in wanted_rules}
    removed = []
    for tool, spec in tagged(project):
        if (tool, tuple(spec[1:])) not in keep:
            proc = xtables(tool, "-D", *spec)
            if proc.returncode != 0:
                raise HardenError(f"{tool} -t raw -D {' '.join(spec[:3])} failed: {proc.stderr.strip()[:200]}")
            removed.append(f"{tool} -t raw {' '.join(shlex.quote(s) for s in spec)}")
    return apply(wanted_rules), removed


def remove(project: str | None = None, loopback: bool = False) -> list[str]:
    """Delete a project's rules (or, with project None, every lab rule); the loopback pair only
    when asked, since it serves every project. Returns what was removed."""
    why = can_harden()
    if why:
        raise HardenError(f"cannot remove lab's rules: {why}")
    removed = []
    for tool, spec in tagged(project):
        if not loopback and LOOPBACK_COMMENT in spec:
            continue
        proc = xtables(tool, "-D", *spec)
        if proc.returncode != 0:
            raise HardenError(f"{tool} -t raw -D {' '.join(spec[:3])} failed: {proc.stderr.strip()[:200]}")
        removed.append(f"{tool} -t raw {' '.join(shlex.quote(s) for s in spec)}")
    return removed


def add_project_rules(project: str) -> None:
    """`lab up`'s step: the project's rules in place, each said; a run that cannot add them says what to run."""
    from lab.report import say

    why = can_harden()
    if why:
        say(
            f"warning: cannot add lab's raw-table rules ({why}); run `sudo lab harden --project {project}`, "
            "and `sudo lab verify` to see what a neighbour can reach"
        )
        return
    added, removed = sync(project)
    for rule in added:
        say(f"hardened: {rule}")
    for line in removed:
        say(f"removed a stale rule: {line}")


def remove_project_rules(project: str) -> None:
    """A project's own rules go with its networks (the loopback pair serves every project: it stays)."""
    from lab.report import say

    why = can_harden()
    if why:
        say(
            f"warning: cannot remove project {project}'s raw-table rules, if a root run added them ({why}); "
            f"run `sudo lab harden --undo --project {project}`"
        )
        return
    remove(project)
