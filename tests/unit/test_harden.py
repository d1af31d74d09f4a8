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
