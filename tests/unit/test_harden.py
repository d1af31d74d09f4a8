import pytest

from lab import harden


def test_rules_are_tagged_and_cover_both_loopbacks():
    assert [(r.tool, r.destination) for r in harden.RULES] == [("iptables", "127.0.0.0/8"), ("ip6tables", "::1/128")]
    spec = harden.RULES[0].spec()
    assert spec == ["PREROUTING", "-d", "127.0.0.0/8", "!", "-i", "lo", "-m", "comment", "--comment",
                    harden.COMMENT, "-j", "DROP"]


def test_without_root_harden_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(harden.os, "geteuid", lambda: 1000)
    with pytest.raises(harden.HardenError, match="cannot harden: needs root"):
        harden.apply()
