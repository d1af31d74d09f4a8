"""Neighbour probe: what a machine next to this host could reach.

Verify creates a network namespace joined to the host by a veth pair (unique names,
removed in a `finally`, also on Ctrl-C/SIGTERM), then from inside it:
  - connects to every published port at the host's veth address (v4 and v6), which
    catches anything bound to a wildcard or non-loopback address;
  - the L2 attack: routes 127.0.0.1 (and ::1) via the host and tries every port again,
    which catches engines before 28.0.0 that DNAT such packets into the container;
  - direct routing: routes each of the project's network subnets via the host and tries
    every port of every one of the project's containers at the container's own address
    (published or not), which catches engines before 28 that ACCEPT those packets.
Every attempt must fail. Traffic only ever goes to addresses of this veth pair and to the
exact addresses of the project's own containers, read from the engine: never a range.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from lab import addr, enginefacts, harden, hostnet
from lab.errors import NetnsError
from lab.inventory import Container, Network
from lab.verify import netprobe
from lab.verify.checks import FAIL, PASS, SKIP, Check


@dataclass(frozen=True)
class Neighbour:
    netns: str
    host_if: str
    ns_if: str
    host_v4: str
    ns_v4: str
    host_v6: str
    ns_v6: str


@dataclass(frozen=True)
class Attempt:
    """One try from the neighbour's namespace, and what it proves: a verdict, never a string to parse back."""

    host: str
    port: int
    protocol: str
    via: str  # "host veth v4|v6", "127.0.0.1 routed via host", "::1 routed via host", or "direct"
    outcome: str  # "open", "refused", "dropped" (no answer) or "error" (the try itself failed)
    detail: str
    service: str = ""  # direct tries: whose address
    container: str = ""
    closed_by: str = ""  # a drop: the raw-table rule a packet meets first (the first DROP wins), described
    counted: int = 0  # packets that rule counted while the whole probe ran (0: not seen counting)
    behind: tuple[str, ...] = ()  # the other DROPs that would have taken it, in order (the engine's own)

    @property
    def direct(self) -> bool:
        return self.via == "direct"

    @property
    def routed_loopback(self) -> str | None:
        """127.0.0.1 or ::1 when this try sent a loopback address via the host, else None."""
        return self.host if self.via.endswith(" routed via host") else None

    @property
    def label(self) -> str:
        if self.direct:
            return f"{self.protocol}/{self.port} direct to {self.service} {self.host}"
        return f"{self.protocol}/{self.port} via {self.via}"

    @property
    def reached(self) -> bool:
        """Did a neighbour get an answer (for a direct try, a refusal counts: the container answered)?"""
        return self.outcome == "open" or (self.direct and self.outcome == "refused")

    def closer(self) -> str:
        """Who closed this path, for the report: the first rule and what stands behind it."""
        if not self.closed_by:
            return ""
        said = self.closed_by + (f" (counted {self.counted})" if self.counted else "")
        if self.behind:
            said += "; behind it " + "; ".join(self.behind)
        return said


def can_run() -> str | None:
    """None when the probe can run; otherwise why not (it is then reported as skip)."""
    if os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN) to create a network namespace; run verify as root"
    if not shutil.which("ip"):
        return "the `ip` command (iproute2) is missing"
    return None


def _ip(*args: str, ns: str | None = None) -> None:
    argv = ["ip", *(["-n", ns] if ns else []), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        raise NetnsError(f"`{' '.join(argv)}` failed: {proc.stderr.strip()[:200]}")


def _batch(ns: str | None, commands: list[str], family: str = "") -> None:
    """Several `ip` commands in one process (each process costs ~10 ms)."""
    argv = ["ip", *([family] if family else []), *(["-n", ns] if ns else []), "-batch", "-"]
    proc = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        raise NetnsError(f"`{' '.join(argv)}` failed: {proc.stderr.strip()[:200]}")


@contextmanager
def neighbour(ipv6: bool = True, routed: tuple[str, ...] = ()) -> Iterator[Neighbour]:
    """Create the namespace and veth pair (IPv6 parts only where the host has IPv6), with a route via
    the host for each subnet in `routed` (as a neighbour on the LAN would add); always remove them."""
    tag = secrets.token_hex(3)
    net = hostnet.free_subnet(30, routed)  # never one of the project's own subnets (a rootless one has no route)
    v6 = f"fd6c:6162:{tag[:4]}:{tag[4:]}00::"  # a ULA /64 of our own
    n = Neighbour(f"lab-nb-{tag}", f"labh{tag}", f"labn{tag}", str(net[1]), str(net[2]), v6 + "1", v6 + "2")
    previous = signal.getsignal(signal.SIGTERM)

    def _term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    in_main = _is_main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _term)
    guards: list[tuple[str, list[str]]] = []
    try:
        _sweep_namespaces()
        _ip("netns", "add", n.netns)
        _batch(
            None,
            [
                f"link add {n.host_if} type veth peer name {n.ns_if} netns {n.netns}",
                f"addr add {n.host_v4}/30 dev {n.host_if}",
                *([f"addr add {n.host_v6}/64 dev {n.host_if} nodad"] if ipv6 else []),
                f"link set {n.host_if} up",
            ],
        )
        _batch(
            n.netns,
            [
                f"addr add {n.ns_v4}/30 dev {n.ns_if}",
                *([f"addr add {n.ns_v6}/64 dev {n.ns_if} nodad"] if ipv6 else []),
                f"link set {n.ns_if} up",
                "link set lo up",
                # The L2 attack: 127.0.0.1 and ::1 routed via the host instead of the namespace's own lo.
                "rule add pref 100 lookup local",
                "rule del pref 0",
                "rule add pref 10 to 127.0.0.1/32 lookup 100",
                f"route add 127.0.0.1/32 via {n.host_v4} dev {n.ns_if} table 100",
                # Direct routing: the project's container subnets via the host.
                *(f"route add {s} via {n.host_v4} dev {n.ns_if}" for s in routed if not addr.is_v6(s)),
            ],
        )
        _guard(n.host_if, ipv6, guards)
        if ipv6:
            _batch(
                n.netns,
                [
                    "rule add pref 100 lookup local",
                    "rule del pref 0",
                    "rule add pref 10 to ::1/128 lookup 100",
                    f"route add ::1/128 via {n.host_v6} dev {n.ns_if} table 100",
                    *(f"route add {s} via {n.host_v6} dev {n.ns_if}" for s in routed if addr.is_v6(s)),
                ],
                family="-6",
            )
        yield n
    finally:
        for tool, rule in guards:
            harden.xtables(tool, "-D", *rule, table="filter")
        # The pair first (synchronous; `netns del` frees the peer only later, in the kernel's own time).
        subprocess.run(["ip", "link", "del", n.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", n.netns], capture_output=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _guard(host_if: str, ipv6: bool, added: list[tuple[str, list[str]]]) -> None:
    """Nothing the probe sends may leave this machine. A subnet that is not on this host (a rootless
    engine's lives in its own namespace) routes by the default route: a FORWARD drop from the probe's
    veth to each uplink keeps those packets here. Local bridges are not uplinks: nothing else changes.
    Each rule is recorded in `added` as soon as it is in, for the caller's `finally`."""
    for tool, family in (("iptables", "-4"), ("ip6tables", "-6")) if ipv6 else (("iptables", "-4"),):
        if not shutil.which(tool):
            continue
        _sweep(tool)
        shown = subprocess.run(["ip", family, "route", "show", "default"], capture_output=True, text=True)
        uplinks = sorted({w[w.index("dev") + 1] for w in map(str.split, shown.stdout.splitlines()) if "dev" in w})
        for uplink in uplinks:
            rule = ["FORWARD", "-i", host_if, "-o", uplink, "-m", "comment", "--comment", "lab-probe-guard"]
            rule += ["-j", "DROP"]
            proc = harden.xtables(tool, "-I", *rule, table="filter")
            if proc.returncode != 0:
                raise NetnsError(f"could not keep the probe's packets on this host: {proc.stderr.strip()[:160]}")
            added.append((tool, rule))


STALE = 60.0  # s: a probe lasts seconds; an older namespace of ours with no process in it is a dead one's


def _sweep_namespaces() -> None:
    """A probe killed outright (SIGKILL) leaves its namespace and veth pair: remove those no process is
    in and that are older than any probe lasts. A live probe's thread is inside its namespace."""
    import time

    for entry in os.scandir("/run/netns") if os.path.isdir("/run/netns") else ():
        if not entry.name.startswith("lab-nb-") or time.time() - entry.stat().st_mtime < STALE:
            continue
        pids = subprocess.run(["ip", "netns", "pids", entry.name], capture_output=True, text=True).stdout
        if not pids.strip():
            subprocess.run(["ip", "link", "del", "labh" + entry.name.removeprefix("lab-nb-")], capture_output=True)
            subprocess.run(["ip", "netns", "del", entry.name], capture_output=True)


def _sweep(tool: str) -> None:
    """A probe killed outright (SIGKILL) leaves its guard and counting rules behind: remove those whose
    veth is gone. A probe running beside this one still has its veth: its rules stay."""
    for table, chain, tag in (("filter", "FORWARD", "lab-probe-guard"), ("raw", "PREROUTING", "lab-probe-count")):
        listed = harden.xtables(tool, "-S", chain, table=table)
        for line in listed.stdout.splitlines():
            parts = shlex.split(line)
            if tag in parts and "-i" in parts and not os.path.exists(f"/sys/class/net/{parts[parts.index('-i') + 1]}"):
                harden.xtables(tool, "-D", *parts[1:], table=table)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def probe_from(n: Neighbour, targets: list[dict], timeout: float) -> list[dict]:
    sysctls = {"ipv4/conf/all/route_localnet": "1", f"ipv4/conf/{n.ns_if}/route_localnet": "1"}
    try:
        return netprobe.inside(n.netns, sysctls, targets, timeout)
    except OSError as exc:
        raise NetnsError(f"probe inside {n.netns} failed: {exc}") from exc


def targets_for(n: Neighbour, ports: set[tuple[int, str]], ipv6: bool = True) -> list[dict]:
    """The host's veth addresses and the routed loopbacks, on every published port."""
    hosts = [(n.host_v4, "host veth v4"), ("127.0.0.1", "127.0.0.1 routed via host")]
    if ipv6:
        hosts[1:1] = [(n.host_v6, "host veth v6")]
        hosts.append(("::1", "::1 routed via host"))
    return [
        {"host": h, "port": p, "protocol": proto, "via": via, "family": _family(h)}
        for h, via in hosts
        for p, proto in sorted(ports)
    ]


def direct_targets(containers: list[Container], ipv6: bool = True) -> list[dict]:
    """Every port of every container at the container's own address: exact addresses, no range."""
    return [
        {
            "host": a,
            "port": p,
            "protocol": proto,
            "via": "direct",
            "service": c.service,
            "container": c.name,
            "family": _family(a),
        }
        for c in containers
        for a in c.addresses
        if ipv6 or _family(a) == 4
        for p, proto in c.ports
    ]


def _routed(networks: list[Network], ipv6: bool) -> tuple[str, ...]:
    """The subnets a neighbour routes via the host: every one of the project's networks'."""
    return tuple(s for net in networks for s in net.subnets if ipv6 or not addr.is_v6(s))


def _family(host: str) -> int:
    return 6 if addr.family(host) == socket.AF_INET6 else 4


def label(r: dict) -> str:
    return attempt(r).label


def attempt(r: dict, **found: object) -> Attempt:
    keys = ("host", "port", "protocol", "via", "outcome", "detail", "service", "container")
    return Attempt(**{k: r[k] for k in keys if k in r}, **found)  # type: ignore[arg-type]


def judge(a: Attempt | dict) -> Check:
    """One attempt's verdict. Direct routing fails on any answer: a refusal came from the container."""
    a = a if isinstance(a, Attempt) else attempt(a)
    target, outcome, detail = a.label, a.outcome, a.detail
    if outcome == "error":  # the attempt itself failed: proves nothing either way
        return Check("neighbour", target, FAIL, f"could not test: {detail}")
    if a.direct:
        if outcome == "dropped":
            return Check("neighbour", target, PASS, _closed(a))
        return Check(
            "neighbour",
            target,
            FAIL,
            f"REACHABLE by direct routing: {detail}"
            if outcome == "open"
            else "the container answered (refused): its address is routable from a neighbour",
        )
    if outcome == "open":
        return Check("neighbour", target, FAIL, f"REACHABLE from a neighbour: {detail}")
    return Check("neighbour", target, PASS, _closed(a) if outcome == "dropped" else detail)


def _closed(a: Attempt) -> str:
    return f"{a.detail}; closed by {a.closer()}" if a.closed_by else a.detail


PROBE_FAILURES = (NetnsError, subprocess.TimeoutExpired, ValueError)


def _attempts(
    ports: set[tuple[int, str]], containers: list[Container], networks: list[Network], ipv6: bool, timeout: float
) -> list[Attempt]:
    """Build the namespace (the project's subnets routed via the host), try every target, remove it."""
    with neighbour(ipv6, _routed(networks, ipv6)) as n:
        table = enginefacts.raw_drops()  # with counters: who dropped what is read off them after
        targets = targets_for(n, ports, ipv6) + direct_targets(list(containers), ipv6)
        drops = _droppers(n, ipv6)
        guard = {i: rule for i, t in enumerate(targets) if (rule := _dropping_rule(t["host"], drops))}
        for i in guard:  # a packet counted on its way to a DROP needs no long wait: the counter is the answer
            targets[i] = {**targets[i], "timeout": min(QUICK, timeout)}
        with _counting(n, {rule: drops[rule] for rule in set(guard.values())}) as read:
            before = read()
            results = probe_from(n, targets, timeout) if targets else []
            if guard:
                _proven_or_asked_again(n, targets, results, guard, before, read(), timeout)
        elsewhere = [s for net in networks if not net.on_host for s in net.subnets]
        silent = unexplained(results, elsewhere)
        if silent:
            again = probe_from(n, [{**targets[i], "timeout": max(2.0, timeout)} for i in silent], max(2.0, timeout))
            for i, r in zip(silent, again, strict=True):
                results[i] = r
        for r in results:  # silence there means: no path in from this host (what the probe's guard kept)
            if r["via"] == "direct" and r["outcome"] == "dropped" and any(addr.within(r["host"], s) for s in elsewhere):
                r["detail"] = "no answer: no path into it from this host (the engine's own namespace)"
        return attributed(results, n.host_if, table, enginefacts.raw_drops())


def unexplained(results: list[dict], elsewhere: list[str]) -> list[int]:
    """The quick tries' TCP silences that nothing explains, to be asked again with a bound that waits out a
    slow answer. A counted drop is proven (`settle`), and a subnet with no path in from this host (a rootless
    engine's) is kept silent by the probe's own guard; any other silence is a slow answer as likely as a drop.
    A probe thread starved on a busy machine once turned a wildcard canary "closed", and a direct try to a
    published container "closed" with no rule in its way: a report must not call a path closed on that. Costs
    nothing where lab's rules stand (their counters prove the drops) or a port refuses at once.
    TCP only: UDP silence is ordinary (the kernel rate-limits its port-unreachable replies, and a UDP service
    may ignore a stranger's datagram), so waiting longer there would prove nothing."""
    return [
        i
        for i, r in enumerate(results)
        if r["outcome"] == "dropped"
        and r["protocol"] == "tcp"
        and not r.get("proven")
        and not (r["via"] == "direct" and any(addr.within(r["host"], s) for s in elsewhere))
    ]


def attributed(
    results: list[dict], interface: str, before: list[enginefacts.RawDrop], after: list[enginefacts.RawDrop]
) -> list[Attempt]:
    """Each result as an Attempt; a drop names the raw-table rule it met first (lab's sit first) with what
    that rule counted during the probe, and the other DROPs behind it (the engine's own, when present)."""
    counts = {(d.tool, d.text): d.packets for d in before}
    grown = {(d.tool, d.text): d.packets - counts.get((d.tool, d.text), d.packets) for d in after}
    out = []
    for r in results:
        if r["outcome"] != "dropped":
            out.append(attempt(r))
            continue
        tool = "ip6tables" if _family(r["host"]) == 6 else "iptables"
        meets = enginefacts.droppers(r["host"], r["port"], r["protocol"], interface, after)
        rules = [d for d in meets if d.tool == tool]
        if not rules:
            out.append(attempt(r))
            continue
        first, *rest = rules
        out.append(
            attempt(
                r,
                closed_by=first.describe(),
                counted=max(0, grown.get((first.tool, first.text), 0)),
                behind=tuple(d.describe() for d in rest),
            )
        )
    return out


QUICK = 0.05  # s: a guarded target's first try (a refusal or an answer comes back well within it)


KERNEL = "kernel"


def _droppers(n: Neighbour, ipv6: bool) -> dict[str, str]:
    """Destinations whose packets from this probe are surely dropped, and who counts them."""
    drops = harden.dropping(n.host_if)
    if ipv6:
        drops["::1/128"] = KERNEL  # the kernel drops ::1 from another interface before any rule sees it
    return drops


@contextmanager
def _counting(n: Neighbour, rules: dict[str, str]) -> Iterator:
    """Count this probe's own packets to each guarded destination: a rule with no verdict ahead of the
    DROP (from this probe's veth only, so another verify running beside it adds nothing), and for ::1 the
    kernel's Ip6InHdrErrors on the veth. Yields a reader; the rules go in a `finally`."""
    by_tool: dict[str, list[str]] = {}
    for dest, tool in rules.items():
        if tool != KERNEL:
            by_tool.setdefault(tool, []).append(dest)
    placed = [tool for tool, dests in by_tool.items() if harden.counting(tool, n.host_if, dests)]

    def read() -> dict[str, int]:
        counts: dict[str, int] = {}
        for tool in placed:
            counts.update(harden.counted(tool, n.host_if))
        if KERNEL in rules.values():
            try:
                with open(f"/proc/net/dev_snmp6/{n.host_if}") as f:
                    counts["::1/128"] = int(dict(line.split() for line in f if line.strip())["Ip6InHdrErrors"])
            except (OSError, KeyError, ValueError):
                pass
        return counts

    try:
        yield read
    finally:
        for tool in placed:
            harden.counting(tool, n.host_if, by_tool[tool], remove=True)


def _dropping_rule(host: str, counts: dict[str, str]) -> str | None:
    """The raw-table DROP rule (its destination) a packet from the neighbour to `host` would meet."""
    return next((where for where in counts if addr.within(host, where)), None)


def _proven_or_asked_again(
    n: Neighbour, targets: list[dict], results: list[dict], guard: dict[int, str], before: dict, after: dict,
    timeout: float,
) -> None:  # fmt: skip
    """The quick tries' silences: proven by a counter, or asked again with the full timeout."""
    again = settle(results, guard, before, after)
    if again:
        slow = probe_from(n, [{**targets[i], "timeout": timeout} for i in again], timeout)
        for i, r in zip(again, slow, strict=True):
            results[i] = r


def settle(results: list[dict], guard: dict[int, str], before: dict[str, int], after: dict[str, int]) -> list[int]:
    """Silence after the quick try counts as a drop only if the rule's counter grew by at least one packet
    per silent target it guards (each sent one packet in that time); those are marked proven. Returns
    the others, to be asked again with the full timeout as without counters: no verdict before its proof."""
    silent: dict[str, list[int]] = {}
    for i, rule in guard.items():
        if results[i]["outcome"] == "dropped":
            silent.setdefault(rule, []).append(i)
    again = []
    for rule, idx in silent.items():
        if after.get(rule, 0) - before.get(rule, 0) >= len(idx):
            for i in idx:
                results[i].update(detail=f"dropped (counted: {rule})", proven=True)
        else:
            again += idx
    return sorted(again)


@dataclass(frozen=True)
class Probe:
    """What the neighbour probe did: its attempts, or why it did not run (skipped) or could not (failed)."""

    attempts: tuple[Attempt, ...] = ()
    skipped: str = ""
    failed: str = ""
    ipv6: bool = True

    @property
    def ran(self) -> bool:
        return not (self.skipped or self.failed)

    def checks(self) -> list[Check]:
        if self.skipped:
            return [Check("neighbour", "namespace probe", SKIP, self.skipped)]
        if self.failed:
            return [Check("neighbour", "namespace probe", FAIL, f"could not run: {self.failed}")]
        checks = [judge(a) for a in self.attempts]
        if any(not a.direct for a in self.attempts) and not self.ipv6:
            checks.append(Check("neighbour", "IPv6 paths", SKIP, "this host has no IPv6 loopback"))
        return checks


def probe(
    ports: set[tuple[int, str]], containers: list[Container] = (), networks: list[Network] = (), timeout: float = 0.25
) -> Probe:
    """Probe the published `ports` at the host and the routed loopbacks, and every port of
    `containers` at their own addresses with `networks`' subnets routed via the host."""
    why = can_run()
    if why:
        return Probe(skipped=why)
    ipv6 = hostnet.has_ipv6_loopback()
    try:
        return Probe(tuple(_attempts(ports, containers, networks, ipv6, timeout)), ipv6=ipv6)
    except PROBE_FAILURES as exc:
        return Probe(failed=str(exc), ipv6=ipv6)


def check(
    ports: set[tuple[int, str]], containers: list[Container] = (), networks: list[Network] = (), timeout: float = 0.25
) -> list[Check]:
    """The probe's verdicts as verify's checks."""
    return probe(ports, containers, networks, timeout).checks()


def is_direct(c: Check) -> bool:
    return " direct to " in c.target


@dataclass(frozen=True)
class Exposure:
    """What direct routing to one container does now."""

    state: str  # "open", "closed" or "unknown"
    detail: str = ""  # open: what answered; unknown: why not known

    def __str__(self) -> str:
        return {"open": f"open: {self.detail}", "unknown": f"unknown ({self.detail})"}.get(self.state, self.state)


def direct_exposure(project: str, timeout: float = 0.25) -> dict[str, Exposure]:
    """Container name -> what direct routing to it does now.

    For reports (`lab ports`, `lab doctor`): the same probe as verify's, on the project's containers only.
    """
    from lab import inventory

    containers = inventory.containers(project)
    if not containers:
        return {}
    why = can_run()
    if why:
        return {c.name: Exposure("unknown", why) for c in containers}
    try:
        tried = _attempts(set(), containers, inventory.networks(project), hostnet.has_ipv6_loopback(), timeout)
    except PROBE_FAILURES as exc:
        return {c.name: Exposure("unknown", f"probe failed: {exc}") for c in containers}
    seen: dict[str, Exposure] = {}
    for a in sorted(tried, key=lambda a: a.outcome == "error"):  # an answer outweighs a failed attempt
        where = f"{a.protocol}/{addr.host_port(a.host, a.port)}"
        if a.outcome in ("open", "refused"):
            seen.setdefault(a.container, Exposure("open", f"{where} answered"))
        elif a.outcome == "error":
            seen.setdefault(a.container, Exposure("unknown", f"{where}: {a.detail}"))
    return {c.name: seen.get(c.name, Exposure("closed")) for c in containers}
