import pytest

from lab import harden
from lab.errors import HardenError
from lab.inventory import Network


def test_one_rule_per_subnet_of_each_network_tagged_with_the_project():
    nets = [Network("p_lab", "br-1", ("172.30.0.0/16", "fd00:1::/64")), Network("p_x", "br-2", ("10.9.0.0/24",))]
    rules = harden.network_rules("p", nets)
    assert [(r.tool, r.destination, r.interface) for r in rules] == [
        ("iptables", "172.30.0.0/16", "br-1"),
        ("ip6tables", "fd00:1::/64", "br-1"),
        ("iptables", "10.9.0.0/24", "br-2"),
    ]
    assert {r.comment for r in rules} == {harden.project_comment("p")}
    assert str(rules[0]) == "iptables -t raw PREROUTING -d 172.30.0.0/16 ! -i br-1 -j DROP"


def test_project_tags_cannot_be_confused():
    """`lab down` of project "a" must not match project "ab"'s rules."""
    assert not harden.project_comment("ab").startswith(harden.project_comment("a"))
    assert harden.LOOPBACK_COMMENT.startswith(harden.TAG)


def test_without_root_harden_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(harden.os, "geteuid", lambda: 1000)
    with pytest.raises(HardenError, match="cannot harden: needs root"):
        harden.apply(list(harden.LOOPBACK))
    with pytest.raises(HardenError, match="needs root"):
        harden.remove("p")


@pytest.mark.parametrize(
    "line, dest",
    [
        ('-A PREROUTING -d 127.0.0.0/8 ! -i lo -m comment --comment "lab-harden: x" -j DROP', "127.0.0.0/8"),
        ("-A PREROUTING -d 172.18.0.2/32 ! -i br-0123456789ab -j DROP", "172.18.0.2/32"),  # Docker 28's
        ("-A PREROUTING -d 10.0.0.0/8 -j DROP", "10.0.0.0/8"),
        ("-A PREROUTING -d 127.0.0.0/8 ! -i labhabc123 -j DROP", None),  # not for the probe's own veth
        ("-A PREROUTING -d 127.0.0.0/8 -p tcp --dport 6379 -j DROP", None),  # some packets only
        ("-A PREROUTING -d 127.0.0.0/8 -i eth0 -j DROP", None),  # another interface's only
        ("-A PREROUTING -d 127.0.0.0/8 ! -i lo -j ACCEPT", None),
        ('-A PREROUTING -i labhabc123 -d 127.0.0.0/8 -m comment --comment "lab-probe-count"', None),
    ],
)
def test_a_drop_counts_as_proof_only_when_it_drops_every_packet_of_the_probe(line, dest):
    from lab.harden import unconditional_drop

    assert unconditional_drop(line, "labhabc123") == dest
