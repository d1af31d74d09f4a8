"""A project bridge network whose gateway mode is `routed` or `nat-unprotected`
(`com.docker.network.bridge.gateway_mode_ipv4` / `_ipv6`, moby#47871).

`routed` (Docker 27.0) gives the network no NAT: the host IP and port of every mapping are ignored, so
`127.0.0.1:5432:5432` protects nothing and the container's own address is open to any host that routes
to it (the engine only logs "Host port ignored, because NAT is disabled"). `nat-unprotected` (28.0) keeps
the NAT but skips the per-port filtering: every port of the container is open to such a host, published or
not. Either way a loopback mapping no longer means loopback only, and no other linter flags it.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, Context, Finding, Rule

RULE = Rule(
    "LAB015",
    "bridge-gateway-mode-unprotected",
    HIGH,
    "a project bridge network with gateway mode routed or nat-unprotected",
    "remove the com.docker.network.bridge.gateway_mode_ipv4/_ipv6 option (the default, nat, keeps the host IP"
    " of a mapping) and recreate the network",
    ("https://github.com/moby/moby/pull/47871", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"),
    fixable=True,
)

OPTIONS = tuple(f"com.docker.network.bridge.gateway_mode_ipv{family}" for family in ("4", "6"))
UNSAFE = {
    "routed": "no NAT: the host IP and port of every mapping are ignored; the container's address is open",
    "nat-unprotected": "NAT without the per-port filter: every port of the container is open to a routing host",
}


def check(ctx: Context) -> Iterator[Finding]:
    for key, net in ctx.bridges():
        opts = net.get("driver_opts") or {}
        for option in OPTIONS:
            mode = str(opts.get(option) or "").strip().lower()
            if mode not in UNSAFE:
                continue
            yield Finding(
                RULE.id,
                HIGH,
                "",
                f"networks.{key}",
                f"{option} {mode}",
                UNSAFE[mode],
                RULE.fix,
                anchor=("networks", key, "driver_opts", option),
            )
