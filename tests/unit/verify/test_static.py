import pytest

from lab.compose_model import compose_model
from lab.verify.static import audit_config


def config_with(host_ip):
    port = {"target": 6379, "published": "6379", "protocol": "tcp"}
    if host_ip is not None:
        port["host_ip"] = host_ip
    return {"services": {"redis": {"ports": [port]}}}


@pytest.mark.parametrize("host_ip, detail", [
    ("0.0.0.0", "0.0.0.0 (all interfaces)"),
    ("::", ":: (all interfaces)"),
    ("", "empty host_ip (all interfaces)"),
    (None, "empty host_ip (all interfaces)"),
    ("192.168.1.10", "192.168.1.10 (not loopback)"),
    ("fe80::1", "fe80::1 (not loopback)"),
])
def test_non_loopback_host_ips_fail(host_ip, detail):
    [check] = audit_config(config_with(host_ip))
    assert (check.status, check.target, check.detail) == ("fail", "redis tcp/6379->6379", detail)


@pytest.mark.parametrize("host_ip", ["127.0.0.1", "::1", "127.0.0.2"])
def test_loopback_host_ips_pass(host_ip):
    assert [c.status for c in audit_config(config_with(host_ip))] == ["pass"]


def test_host_networking_fails():
    [check] = audit_config({"services": {"x": {"network_mode": "host"}}})
    assert check.status == "fail" and "network_mode: host" in check.detail


def test_our_model_passes():
    checks = audit_config(compose_model())
    assert len(checks) == 5 and {c.status for c in checks} == {"pass"}
