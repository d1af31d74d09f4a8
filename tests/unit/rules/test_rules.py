"""The rule set on effective configs shaped as `docker compose config --format json` prints them."""

import pytest

from lab.compose_model import compose_model
from lab.rules import MEDIUM, audit, unsafe


def port(host_ip=None, published="16379"):
    p = {"mode": "ingress", "target": 6379, "published": published, "protocol": "tcp"}
    if host_ip is not None:
        p["host_ip"] = host_ip
    return p


def config(**svc):
    return {
        "services": {"redis": {"networks": {"lab": None}, **svc}},
        "networks": {
            "lab": {"name": "p_lab"},
            "ext": {"name": "shared", "external": True},
            "other": {"name": "q_default"},
        },
    }


@pytest.mark.parametrize(
    "svc, key, value",
    [
        ({"ports": [port("0.0.0.0")]}, "tcp/16379->6379", "host_ip 0.0.0.0 (all interfaces)"),
        ({"ports": [port("::")]}, "tcp/16379->6379", "host_ip :: (all interfaces)"),
        ({"ports": [port("192.168.1.10")]}, "tcp/16379->6379", "host_ip 192.168.1.10 (not loopback)"),
        ({"ports": [port(None)]}, "tcp/16379->6379", "published without a host IP"),
        ({"ports": [port("")]}, "tcp/16379->6379", "published without a host IP"),
        ({"network_mode": "host"}, "network_mode", "host"),
        ({"network_mode": "bridge"}, "network_mode", "bridge"),
        ({"network_mode": "container:abc"}, "network_mode", "container:abc"),
        ({"privileged": True}, "privileged", "true"),
        ({"pid": "host"}, "pid", "host"),
        ({"ipc": "host"}, "ipc", "host"),
        ({"networks": {"ext": None}}, "networks.ext", "external network shared"),
    ],
)
def test_each_unsafe_setting_is_named_with_its_service_key_and_value(svc, key, value):
    [f] = unsafe(config(**svc), "p")
    assert (f.service, f.key, f.value) == ("redis", key, value)
    assert f.line().startswith(f"service redis: {key}: {value} (")


@pytest.mark.parametrize(
    "svc",
    [
        {"ports": [port("127.0.0.1")]},
        {"ports": [port("::1")]},
        {"network_mode": "none"},
        {"network_mode": "service:api"},
        {"privileged": False},
    ],
)
def test_safe_settings_pass(svc):
    assert unsafe(config(**svc), "p") == []


def test_a_network_named_like_another_projects_is_a_warning_not_a_refusal():
    [f] = [f for f in audit(config(networks={"other": None}), "p") if f.rule == "LAB013"]
    assert (f.rule, f.severity, f.key, f.value) == ("LAB013", MEDIUM, "networks.other", "network named q_default")


def test_our_own_model_is_safe_and_every_port_is_listed():
    findings = audit(compose_model(), "lab")
    assert unsafe(compose_model(), "lab") == []
    assert len([f for f in findings if f.safe]) == 5
