import pytest

from lab.inventory import Binding, Container
from lab.verify import neighbour, runtime


def test_runtime_flags_wildcards_of_both_families():
    found = [
        Binding("c", "127.0.0.1", 1, 80, "tcp"),
        Binding("c", "::1", 1, 80, "tcp"),
        Binding("c", "0.0.0.0", 2, 81, "tcp"),
        Binding("c", "::", 2, 81, "tcp"),
        Binding("c", "", 3, 82, "udp"),
    ]
    assert [c.status for c in runtime.check(found)] == ["pass", "pass", "fail", "fail", "fail"]


def test_without_root_the_neighbour_probe_is_skipped_never_passed(monkeypatch):
    monkeypatch.setattr(neighbour.os, "geteuid", lambda: 1000)
    [check] = neighbour.check({(6379, "tcp")})
    assert check.status == "skip" and "needs root" in check.detail


def test_targets_cover_both_veth_families_and_the_routed_loopbacks():
    n = neighbour.Neighbour("ns", "h", "n", "10.9.9.1", "10.9.9.2", "fd00::1", "fd00::2")
    got = {
        (t["host"], t["port"], t["protocol"], t["family"]) for t in neighbour.targets_for(n, {(1, "tcp"), (2, "udp")})
    }
    assert got == {
        (h, p, proto, 6 if ":" in h else 4)
        for h in ("10.9.9.1", "fd00::1", "127.0.0.1", "::1")
        for p, proto in ((1, "tcp"), (2, "udp"))
    }


def test_a_host_without_ipv6_gets_ipv4_targets_only():
    n = neighbour.Neighbour("ns", "h", "n", "10.9.9.1", "10.9.9.2", "fd00::1", "fd00::2")
    hosts = {t["host"] for t in neighbour.targets_for(n, {(1, "tcp")}, ipv6=False)}
    assert hosts == {"10.9.9.1", "127.0.0.1"}


def test_direct_targets_are_exactly_each_containers_own_addresses_and_ports():
    cs = [
        Container("p-echo-1", "echo", ("172.30.0.2",), ((65432, "tcp"), (65432, "udp"))),
        Container("p-redis-1", "redis", ("172.30.0.3", "fd00::3"), ((6379, "tcp"),)),
    ]
    got = [(t["host"], t["port"], t["protocol"], t["service"]) for t in neighbour.direct_targets(cs, ipv6=False)]
    assert got == [
        ("172.30.0.2", 65432, "tcp", "echo"),
        ("172.30.0.2", 65432, "udp", "echo"),
        ("172.30.0.3", 6379, "tcp", "redis"),
    ]
    assert len(neighbour.direct_targets(cs, ipv6=True)) == 4


def outcome(via, outcome):
    return {
        "host": "172.30.0.3",
        "port": 6379,
        "protocol": "tcp",
        "via": via,
        "service": "redis",
        "outcome": outcome,
        "detail": outcome,
    }


def test_direct_routing_fails_on_any_answer_and_passes_only_when_dropped():
    verdicts = {o: neighbour.judge(outcome("direct", o)) for o in ("open", "refused", "dropped", "error")}
    assert {o: v.status for o, v in verdicts.items()} == {
        "open": "fail",
        "refused": "fail",
        "dropped": "pass",
        "error": "fail",
    }
    assert verdicts["open"].target == "tcp/6379 direct to redis 172.30.0.3"
    assert verdicts["error"].detail.startswith("could not test")


def test_a_refusal_at_the_hosts_own_address_is_fine():
    assert neighbour.judge(outcome("host veth v4", "refused")).status == "pass"
    assert neighbour.judge(outcome("host veth v4", "open")).status == "fail"


def locked(**changes):
    from lab.inventory import Lockdown

    base = dict(
        container="p-redis-1",
        service="redis",
        uid=999,
        cap_eff=0,
        cap_drop=("ALL",),
        cap_add=("CHOWN", "SETUID", "SETGID"),
        read_only=True,
        no_new_privileges=True,
        privileged=False,
        memory=2**28,
        nano_cpus=10**9,
        pids_limit=64,
        healthcheck=True,
        restart="unless-stopped",
    )
    return Lockdown(**{**base, **changes})


def test_a_locked_down_container_passes_lockdown():
    from lab.verify import lockdown

    assert lockdown.problems(locked(), {"CHOWN", "SETUID", "SETGID"}) == []


@pytest.mark.parametrize(
    "change, says",
    [
        ({"cap_drop": ()}, "[5.4]"),
        ({"cap_add": ("NET_ADMIN",)}, "NET_ADMIN"),
        ({"uid": 0}, "root"),
        ({"cap_eff": 0x20}, "CapEff 0x20"),
        ({"memory": 0}, "[5.11]"),
        ({"nano_cpus": 0}, "[5.12]"),
        ({"read_only": False}, "[5.13]"),
        ({"no_new_privileges": False}, "[5.26]"),
        ({"healthcheck": False}, "[5.27]"),
        ({"pids_limit": -1}, "[5.29]"),
        ({"privileged": True}, "privileged"),
        ({"restart": "no"}, "restart"),
    ],
)
def test_each_missing_safeguard_is_named(change, says):
    from lab.verify import lockdown

    [problem] = lockdown.problems(locked(**change), {"CHOWN", "SETUID", "SETGID"})
    assert says in problem


def test_a_quick_silence_is_a_drop_only_when_a_counter_shows_every_packet():
    from lab.verify.neighbour import settle

    def results():
        return [{"outcome": "dropped", "detail": "no answer"} for _ in range(3)] + [{"outcome": "refused"}]

    guard = {0: "127.0.0.0/8", 1: "127.0.0.0/8", 2: "172.18.0.0/16", 3: "172.18.0.0/16"}
    got = results()
    assert settle(got, guard, {"127.0.0.0/8": 7, "172.18.0.0/16": 0}, {"127.0.0.0/8": 9, "172.18.0.0/16": 1}) == []
    assert [r["detail"] for r in got[:3]] == ["dropped (counted: 127.0.0.0/8)"] * 2 + [
        "dropped (counted: 172.18.0.0/16)"
    ]
    assert all(r["proven"] for r in got[:3])
    # one packet short: both of that rule's targets are asked again, the other rule's stand
    got = results()
    assert settle(got, guard, {"127.0.0.0/8": 7}, {"127.0.0.0/8": 8, "172.18.0.0/16": 1}) == [0, 1]
    assert got[0]["detail"] == "no answer" and got[2]["detail"] == "dropped (counted: 172.18.0.0/16)"
    # no counter at all (no root, no rule): nothing is proven early
    assert settle(results(), guard, {}, {}) == [0, 1, 2]


def test_every_tcp_silence_nothing_explains_is_asked_again_with_a_longer_bound():
    from lab.verify.neighbour import unexplained

    def tried(host, via, protocol="tcp", outcome="dropped", **found):
        return {"host": host, "via": via, "protocol": protocol, "outcome": outcome, "detail": "no answer", **found}

    results = [
        tried("10.200.0.1", "host veth v4"),  # 0: silence at the host: a slow answer as likely as a drop
        tried("172.18.0.2", "direct"),  # 1: a published container, no rule in the way: starved, not closed
        tried("172.18.0.3", "direct", proven=True),  # a rule's counter proved the drop (settle)
        tried("10.201.0.2", "direct"),  # a rootless engine's subnet: the probe's own guard keeps it silent
        tried("172.18.0.2", "direct", protocol="udp"),  # UDP silence is ordinary
        tried("127.0.0.1", "127.0.0.1 routed via host"),  # 5: no counter proved it
        tried("172.18.0.2", "direct", outcome="refused"),  # answered
    ]
    assert unexplained(results, ["10.201.0.0/24"]) == [0, 1, 5]
