from lab.verify.checks import Status
from lab.verify.static import audit_config


def test_findings_become_checks_named_by_service_and_key():
    cfg = {
        "services": {
            "redis": {
                "ports": [
                    {"target": 6379, "published": "1", "protocol": "tcp", "host_ip": "0.0.0.0"},
                    {"target": 6379, "published": "2", "protocol": "tcp", "host_ip": "::1"},
                ],
                "privileged": True,
            }
        }
    }
    got = [(c.target, c.status) for c in audit_config(cfg, "p")]
    assert got == [
        ("redis tcp/1->6379", Status.FAIL),
        ("redis tcp/2->6379", Status.PASS),
        ("redis privileged", Status.FAIL),
    ]


def test_a_milder_finding_warns_and_does_not_fail():
    cfg = {"services": {"redis": {"cap_add": ["SYS_PTRACE"]}}}
    [c] = audit_config(cfg, "p")
    assert (c.target, c.status) == ("redis cap_add SYS_PTRACE", Status.WARN)


def test_low_hardening_findings_are_left_to_lab_check():
    cfg = {"services": {"redis": {"image": "redis:7.2"}}}  # no cap_drop, no limits, writable root: all low
    assert audit_config(cfg, "p") == []
