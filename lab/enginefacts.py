"""What lab knows about the engine it talks to: one home for these facts.

Each is read from the engine's own answers (`info`, `version`, a network's options) or from this host's
firewall tables, never inferred from a version number: Docker 28 ships raw-table rules of its own, but an
engine started with `DOCKER_INSECURE_NO_IPTABLES_RAW=1` or `allow-direct-routing`, a network with
`trusted_host_interfaces`, or a firewall reload (CVE-2025-54388) takes them away again, and only the table
says which is the case now.
"""

from __future__ import annotations

import functools
import shlex
import shutil
from dataclasses import dataclass

from lab import addr, engine, harden

GATEWAY_MODE = "com.docker.network.bridge.gateway_mode_ipv{}"  # moby#47871 (27.0); nat-unprotected since 28.0
UNSAFE_GATEWAY_MODES = ("routed", "nat-unprotected")


@dataclass(frozen=True)
class Facts:
    version: str
    kind: engine.Kind
    firewall: str  # "iptables", "nftables", or "unknown": what writes the engine's NAT and filter rules
    cgroup_version: str  # "1", "2", or "" when the engine does not say

    @property
    def rootless(self) -> bool:
        return self.kind.rootless

    @property
    def lab_rules_apply(self) -> str | None:
        """None when lab's iptables raw-table rules sit in front of the engine's own; otherwise why not."""
        if self.firewall == "nftables" and not self.kind.podman:
            return (
                "the engine writes its rules with nftables (firewall-backend nftables): lab's iptables raw-table"
                " rules are not proven to stand in front of them"
            )
        return None

    def describe(self) -> str:
        cg = f"cgroup v{self.cgroup_version}" if self.cgroup_version else "cgroups unknown"
        return f"{self.kind.name} {self.version}, firewall {self.firewall}, {cg}"


def from_answers(info: dict, versions: dict, tables: str = "") -> Facts:
    """The facts in the engine's answers; `tables` (nft's table list) settles a backend it does not name."""
    kind = engine.detect(info, versions)
    said = str(((info.get("FirewallBackend") or {}).get("Driver")) or "").lower()  # Docker >= 28 says it
    if said:
        firewall = "nftables" if said.startswith("nftables") else "iptables" if said.startswith("iptables") else said
    elif kind.podman:  # netavark writes `table inet netavark` with its nftables driver, NETAVARK chains else
        known = tables or shutil.which("iptables")
        firewall = "nftables" if "netavark" in tables else "iptables" if known else "unknown"
    else:  # an engine that does not name one has only the iptables writer
        firewall = "iptables"
    return Facts(versions.get("Version", "unknown"), kind, firewall, str(info.get("CgroupVersion") or ""))


@functools.cache
def facts() -> Facts:
    """This process's engine (asked once)."""
    return from_answers(engine.client().info(), engine.client().version(), _nft_tables())


def _nft_tables() -> str:
    import subprocess

    if not shutil.which("nft") or harden.can_harden():
        return ""
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


@dataclass(frozen=True)
class RawDrop:
    """A DROP in the raw table's PREROUTING, as `-S` prints it: lab's, the engine's or anyone's. Or an ACCEPT
    for one interface in front of them: Docker 28.2 writes one per container for each of a network's
    `trusted_host_interfaces`, and a packet from there never meets the DROPs behind it."""

    tool: str
    destination: str
    not_from: str  # the interface it spares ("" when none)
    protocol: str  # "" for every protocol
    port: int | None
    comment: str
    text: str  # the rule as written, for reports (without its counters)
    packets: int = 0  # its counter when read with -v
    verdict: str = "DROP"  # or "ACCEPT" (only with `only_from`)
    only_from: str = ""  # an ACCEPT's interface, `+` a wildcard as iptables reads it

    @property
    def owner(self) -> str:
        if self.comment.startswith(harden.TAG):
            return "lab"
        if self.comment == "lab-probe-count":
            return "probe"
        return "engine" if not self.comment else "other"

    def describe(self) -> str:
        who = {"lab": "lab's rule", "engine": "the engine's own rule"}.get(self.owner, "a rule")
        spared = f" ! -i {self.not_from}" if self.not_from else ""
        proto = f" -p {self.protocol}" if self.protocol else ""
        port = f" --dport {self.port}" if self.port is not None else ""
        only = f" -i {self.only_from}" if self.only_from else ""
        return f"{who} `{self.tool} -t raw -d {self.destination}{spared}{only}{proto}{port} -j {self.verdict}`"

    def meets(self, host: str, port: int, protocol: str, interface: str) -> bool:
        """Does a packet to host:port/protocol arriving on `interface` match this rule?"""
        return (
            addr.within(host, self.destination)
            and self.not_from != interface
            and (not self.only_from or _interface_matches(self.only_from, interface))
            and (not self.protocol or self.protocol == protocol)
            and (self.port is None or self.port == port)
        )


def _interface_matches(pattern: str, interface: str) -> bool:
    return interface.startswith(pattern[:-1]) if pattern.endswith("+") else interface == pattern


def raw_drops() -> list[RawDrop]:
    """The raw table's PREROUTING DROP rules, and the ACCEPTs for one interface among them, in the order a
    packet meets them ([] when it cannot be read)."""
    if harden.can_harden():
        return []
    found = []
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool):
            found += [d for line in harden.xtables(tool, "-v", "-S", "PREROUTING").stdout.splitlines()
                      if (d := parse_drop(tool, line))]  # fmt: skip
    return found


def parse_drop(tool: str, line: str) -> RawDrop | None:
    """`-A PREROUTING -d X [! -i Y] [-p P] [-m P --dport N] [-m comment --comment C] -j DROP`, or such an
    ACCEPT for one interface (`-i Z`), else None."""
    parts = shlex.split(line)
    if parts[:2] != ["-A", "PREROUTING"] or parts[-2:] not in (["-j", "DROP"], ["-j", "ACCEPT"]):
        return None
    verdict, only = parts[-1], ""
    rest, dest, spared, proto, port, comment, packets = parts[2:-2], "", "", "", None, "", 0
    if "-c" in rest and len(rest) > rest.index("-c") + 2:  # -v's counters: "-c PACKETS BYTES"
        at = rest.index("-c")
        packets = int(rest[at + 1]) if rest[at + 1].isdigit() else 0
        del rest[at : at + 3]
    shown = ["-A", "PREROUTING", *rest, "-j", verdict]
    while rest:
        match rest:
            case ["-d", d, *more]:
                dest, rest = d, more
            case ["!", "-i", i, *more]:
                spared, rest = i, more
            case ["-i", i, *more]:
                only, rest = i, more
            case ["-p", p, *more]:
                proto, rest = p, more
            case ["-m", "comment", "--comment", c, *more]:
                comment, rest = c, more
            case ["-m", _, *more]:
                rest = more
            case ["--dport", n, *more] if n.isdigit():
                port, rest = int(n), more
            case _:
                return None  # a condition this reading does not know: not claimed as a drop
    if not dest or (verdict == "ACCEPT") != bool(only):  # an ACCEPT for every interface is not one of these
        return None
    return RawDrop(tool, dest, spared, proto, port, comment, shlex.join(shown[1:]), packets, verdict, only)


def droppers(host: str, port: int, protocol: str, interface: str, drops: list[RawDrop]) -> list[RawDrop]:
    """Every DROP a packet would meet, first (the one that counts it) first, up to an ACCEPT that lets it
    through; lab's probe counters left out."""
    met = []
    for d in drops:
        if d.owner == "probe" or not d.meets(host, port, protocol, interface):
            continue
        if d.verdict == "ACCEPT":
            break
        met.append(d)
    return met


def gateway_modes(options: dict) -> dict[str, str]:
    """A network's gateway modes from its options: {"ipv4": "routed", …}; only those it sets."""
    modes = {}
    for family in ("4", "6"):
        mode = str(options.get(GATEWAY_MODE.format(family)) or "")
        if mode:
            modes[f"ipv{family}"] = mode
    return modes


def unsafe_gateway_modes(project: str) -> dict[str, dict[str, str]]:
    """The project's networks whose gateway mode skips the NAT or its filtering: name -> {family: mode}."""
    from lab import inventory

    out = {}
    for net in engine.client().networks.list(filters=inventory._mine(project)):
        modes = {f: m for f, m in gateway_modes(net.attrs.get("Options") or {}).items() if m in UNSAFE_GATEWAY_MODES}
        if modes:
            out[net.name] = modes
    return out
