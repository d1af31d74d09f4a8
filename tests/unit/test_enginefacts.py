"""Engine facts from the engine's answers and the raw table's text: nothing from a version number."""

from __future__ import annotations

import pytest

from lab import enginefacts
from lab.verify import neighbour

DOCKER28 = [
    '-A PREROUTING -d 172.19.0.0/16 ! -i br-c7b1 -m comment --comment "lab-harden: lab: drop direct routing'
    ' from other interfaces" -c 3 180 -j DROP',
    '-A PREROUTING -d 127.0.0.0/8 ! -i lo -m comment --comment "lab-harden: drop loopback-addressed packets'
    ' from other interfaces" -c 7 420 -j DROP',
    "-A PREROUTING -d 172.19.0.2/32 ! -i br-c7b1 -c 0 0 -j DROP",
    "-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 6379 -c 0 0 -j DROP",
    "-A PREROUTING -d 127.0.0.1/32 -i labh1 -m comment --comment lab-probe-count -c 9 9",  # no verdict
    "-A PREROUTING -s 10.0.0.0/8 -j DROP",  # no destination: not claimed
]


def table(lines=DOCKER28):
    return [d for line in lines if (d := enginefacts.parse_drop("iptables", line))]


def test_the_raw_table_is_read_with_owners_ports_and_counters():
    drops = table()
    assert [(d.owner, d.destination, d.not_from, d.protocol, d.port, d.packets) for d in drops] == [
        ("lab", "172.19.0.0/16", "br-c7b1", "", None, 3),
        ("lab", "127.0.0.0/8", "lo", "", None, 7),
        ("engine", "172.19.0.2/32", "br-c7b1", "", None, 0),
        ("engine", "127.0.0.1/32", "lo", "tcp", 6379, 0),
    ]
    assert drops[3].text == "PREROUTING -d 127.0.0.1/32 '!' -i lo -p tcp -m tcp --dport 6379 -j DROP"


def test_the_first_drop_a_packet_meets_is_lab_s_and_the_engine_s_stand_behind():
    drops = table()
    redis = enginefacts.droppers("127.0.0.1", 6379, "tcp", "labh1", drops)
    assert [d.owner for d in redis] == ["lab", "engine"]
    assert [d.owner for d in enginefacts.droppers("127.0.0.1", 5432, "tcp", "labh1", drops)] == ["lab"]
    assert [d.owner for d in enginefacts.droppers("172.19.0.2", 80, "tcp", "labh1", drops)] == ["lab", "engine"]
    assert enginefacts.droppers("172.19.0.2", 80, "tcp", "br-c7b1", drops) == []  # its own bridge


# Docker 28.2 with a network's trusted_host_interfaces: an ACCEPT per interface in front of the engine's DROP
TRUSTED = [
    "-A PREROUTING -d 172.19.0.2/32 -i eth+ -c 4 240 -j ACCEPT",
    "-A PREROUTING -d 172.19.0.2/32 ! -i br-c7b1 -c 0 0 -j DROP",
    "-A PREROUTING -j ACCEPT",  # one for every interface: not one of these
]


def test_a_trusted_interface_s_accept_is_read_and_ends_what_a_packet_from_it_meets():
    rules = table(TRUSTED)
    assert [(d.verdict, d.only_from, d.not_from, d.owner) for d in rules] == [
        ("ACCEPT", "eth+", "", "engine"),
        ("DROP", "", "br-c7b1", "engine"),
    ]
    assert rules[0].describe() == "the engine's own rule `iptables -t raw -d 172.19.0.2/32 -i eth+ -j ACCEPT`"
    assert enginefacts.droppers("172.19.0.2", 80, "tcp", "eth0", rules) == []  # let through: no DROP behind it
    assert enginefacts.droppers("172.19.0.2", 80, "tcp", "wlan0", rules) == [rules[1]]
    lab_first = table(DOCKER28[:1]) + rules  # lab's DROP in front: it counts, nothing of the engine's behind
    assert [d.owner for d in enginefacts.droppers("172.19.0.2", 80, "tcp", "eth0", lab_first)] == ["lab"]
    assert [d.owner for d in enginefacts.droppers("172.19.0.2", 80, "tcp", "wlan0", lab_first)] == ["lab", "engine"]


def test_a_probe_drop_names_the_rule_that_counted_it_and_what_stands_behind():
    before = table()
    after = table([line.replace("-c 7 420", "-c 9 540") for line in DOCKER28])
    r = {"host": "127.0.0.1", "port": 6379, "protocol": "tcp", "via": "127.0.0.1 routed via host"}
    [a] = neighbour.attributed([{**r, "outcome": "dropped", "detail": "no answer"}], "labh1", before, after)
    assert a.closed_by == "lab's rule `iptables -t raw -d 127.0.0.0/8 ! -i lo -j DROP`"
    assert a.counted == 2
    assert a.behind == ("the engine's own rule `iptables -t raw -d 127.0.0.1/32 ! -i lo -p tcp --dport 6379 -j DROP`",)
    [open_] = neighbour.attributed([{**r, "outcome": "open", "detail": "PONG"}], "labh1", before, after)
    assert open_.closed_by == "" and open_.reached


@pytest.mark.parametrize(
    "info, versions, tables, firewall, refused",
    [
        ({"FirewallBackend": {"Driver": "iptables"}}, {"Version": "28.5.2"}, "", "iptables", False),
        ({"FirewallBackend": {"Driver": "nftables"}}, {"Version": "29.0.0"}, "", "nftables", True),
        ({"FirewallBackend": {"Driver": "iptables+firewalld"}}, {"Version": "28.3.3"}, "", "iptables", False),
        ({}, {"Version": "20.10.24"}, "", "iptables", False),  # does not say: only the iptables writer
        ({}, {"Components": [{"Name": "Podman Engine"}]}, "table inet netavark\n", "nftables", False),
    ],
)
def test_the_firewall_backend_is_the_engine_s_answer(info, versions, tables, firewall, refused):
    facts = enginefacts.from_answers(info, versions, tables)
    assert facts.firewall == firewall
    assert bool(facts.lab_rules_apply) is refused


def test_gateway_modes_are_read_from_a_network_s_options():
    opts = {
        "com.docker.network.bridge.gateway_mode_ipv4": "routed",
        "com.docker.network.bridge.gateway_mode_ipv6": "nat",
        "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
    }
    assert enginefacts.gateway_modes(opts) == {"ipv4": "routed", "ipv6": "nat"}
    assert enginefacts.gateway_modes({}) == {}
