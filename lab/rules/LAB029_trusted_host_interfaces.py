"""A project bridge network that names `com.docker.network.bridge.trusted_host_interfaces` (Docker 28.2,
moby#49832).

Docker 28.2 drops, in the raw table, packets addressed to a container's own address that arrive from any
interface but the network's bridge: a neighbour that routes the bridge's subnet via this host gets nothing.
This option writes an ACCEPT in front of that drop for each interface it names (colon-separated, `+` a
wildcard as iptables reads it): a LAN uplink named there (`eth0`, `wlan+`) lets every host on that LAN reach
the containers' published ports at their own addresses, past the host IP of the mapping. lab's own rule for
the project's subnet sits in front of the engine's ACCEPT and still drops them (shown by
tests/integration/test_engine_options.py), so the hole is open wherever the project runs without lab.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB029",
    "bridge-trusted-host-interfaces",
    MEDIUM,
    "a project bridge network that lets named host interfaces reach its containers directly",
    "remove the com.docker.network.bridge.trusted_host_interfaces option and recreate the network (lab's "
    "raw-table rule closes the path while lab runs the project; plain compose leaves it open)",
    ("https://github.com/moby/moby/pull/49832", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"),
)

OPTION = "com.docker.network.bridge.trusted_host_interfaces"


def check(ctx: Context) -> Iterator[Finding]:
    for key, net in ctx.bridges():
        names = [n for n in str((net.get("driver_opts") or {}).get(OPTION) or "").split(":") if n.strip()]
        if not names:
            continue
        yield Finding(
            RULE.id,
            MEDIUM,
            "",
            f"networks.{key}",
            f"{OPTION} {':'.join(names)}",
            f"packets from {', '.join(names)} reach the containers' own addresses past the engine's drop",
            RULE.fix,
            anchor=("networks", key, "driver_opts", OPTION),
        )
