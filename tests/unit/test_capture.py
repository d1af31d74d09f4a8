from lab.capture import PROXY, Names, flows, parse

TEXT = """\
05:27:30.655538 IP 127.0.0.1.52532 > 127.0.0.1.5000: tcp 0
05:27:30.655554 IP 127.0.0.1.5000 > 127.0.0.1.52532: tcp 120
05:27:30.655566 IP6 ::1.40001 > ::1.5000: tcp 7
05:27:30.700001 IP 172.18.0.1.41000 > 172.18.0.5.5000: tcp 60
05:27:30.700101 IP 172.18.0.5.43210 > 172.18.0.3.6379: tcp 26
05:27:30.700201 IP 172.18.0.3.6379 > 172.18.0.5.43210: tcp 5
05:27:30.700301 IP 172.18.0.5.50000 > 172.18.0.4.65432: UDP, length 16
05:27:30.700401 IP 127.0.0.1.33333 > 127.0.0.1.44444: tcp 9
garbage line
"""

NAMES = Names(
    by_ip={"172.18.0.5": "api", "172.18.0.3": "redis", "172.18.0.4": "echo", "172.18.0.1": PROXY},
    by_port={(5000, "tcp"): "api"},
    service_ports={"api": {(5000, "tcp")}, "redis": {(6379, "tcp")}, "echo": {(65432, "udp")}},
)


def test_tcpdump_lines_of_both_families_and_protocols_are_read():
    got = parse(TEXT)
    assert len(got) == 8
    assert (got[2].src, got[2].dport, got[2].size) == ("::1", 5000, 7)
    assert (got[6].protocol, got[6].size) == ("udp", 16)


def test_both_directions_add_up_to_one_named_flow_and_unrelated_loopback_traffic_is_left_out():
    got = {(f.source, f.target, f.protocol): (f.packets, f.bytes) for f in flows(parse(TEXT), NAMES)}
    assert got == {
        ("host", "api", "tcp"): (3, 127),
        (PROXY, "api", "tcp"): (1, 60),
        ("api", "redis", "tcp"): (2, 31),
        ("api", "echo", "udp"): (1, 16),
    }
