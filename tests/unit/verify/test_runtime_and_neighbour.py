from lab.verify import neighbour, runtime
from lab.verify.checks import loopback_host


def test_runtime_flags_wildcards_of_both_families():
    found = [runtime.Binding("c", "127.0.0.1", 1, 80, "tcp"), runtime.Binding("c", "::1", 1, 80, "tcp"),
             runtime.Binding("c", "0.0.0.0", 2, 81, "tcp"), runtime.Binding("c", "::", 2, 81, "tcp"),
             runtime.Binding("c", "", 3, 82, "udp")]
    assert [c.status for c in runtime.check(found)] == ["pass", "pass", "fail", "fail", "fail"]


def test_loopback_literal_only():
    assert loopback_host("127.0.0.1") and loopback_host("::1") and loopback_host("[::1]")
    assert not any(loopback_host(h) for h in ("", None, "0.0.0.0", "::", "localhost", "10.0.0.1"))


def test_without_root_the_neighbour_probe_is_skipped_never_passed(monkeypatch):
    monkeypatch.setattr(neighbour.os, "geteuid", lambda: 1000)
    [check] = neighbour.check({(6379, "tcp")})
    assert check.status == "skip" and "needs root" in check.detail


def test_targets_cover_both_veth_families_and_the_routed_loopbacks():
    n = neighbour.Neighbour("ns", "h", "n", "10.9.9.1", "10.9.9.2", "fd00::1", "fd00::2")
    got = {(t["host"], t["port"], t["protocol"]) for t in neighbour.targets_for(n, {(1, "tcp"), (2, "udp")})}
    assert got == {(h, p, proto) for h in ("10.9.9.1", "fd00::1", "127.0.0.1", "::1")
                   for p, proto in ((1, "tcp"), (2, "udp"))}


def test_a_host_without_ipv6_gets_ipv4_targets_only():
    n = neighbour.Neighbour("ns", "h", "n", "10.9.9.1", "10.9.9.2", "fd00::1", "fd00::2")
    hosts = {t["host"] for t in neighbour.targets_for(n, {(1, "tcp")}, ipv6=False)}
    assert hosts == {"10.9.9.1", "127.0.0.1"}
