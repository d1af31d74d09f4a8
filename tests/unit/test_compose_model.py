import ipaddress
import re

import pytest
import yaml

from lab import compose_model
from lab.catalogue import SERVICES
from lab.composefile import ROOT


def all_ports(model):
    return [(name, p) for name, svc in model["services"].items() for p in svc.get("ports", [])]


def test_every_service_of_the_catalogue_is_in_the_model():
    assert list(compose_model.compose_model()["services"]) == [s.name for s in SERVICES]


@pytest.mark.parametrize("model, family", [(compose_model.compose_model(), 4), (compose_model.ipv6_model(), 6)])
def test_every_published_port_has_a_literal_loopback_host_ip(model, family):
    ports = all_ports(model)
    assert len(ports) == 5  # echo tcp+udp, api, redis, postgres
    for _name, port in ports:
        ip = ipaddress.ip_address(port["host_ip"])  # a literal, never "${...}"
        assert ip.is_loopback and ip.version == family


def test_only_host_ports_are_interpolated():
    for name, port in all_ports(compose_model.compose_model()):
        spec = next(s for s in SERVICES if s.name == name)
        assert port["published"] == f"${{LAB_{name.upper()}_PORT:-{spec.default_host_port}}}"
        assert port["target"] == spec.container_port
    # No host IP anywhere in the model comes from the environment.
    text = yaml.safe_dump(compose_model.compose_model())
    assert not re.search(r"host_ip: ['\"]?\$", text)


def test_echo_publishes_tcp_and_udp():
    protos = [p["protocol"] for p in compose_model.compose_model()["services"]["echo"]["ports"]]
    assert protos == ["tcp", "udp"]


def test_network_binds_loopback_by_default():
    net = compose_model.compose_model()["networks"]["lab"]
    assert net["driver_opts"] == {"com.docker.network.bridge.host_binding_ipv4": "127.0.0.1"}


def test_no_credentials_in_the_model_only_secret_files():
    model = compose_model.compose_model()
    for svc in model["services"].values():
        for key in svc.get("environment", {}):
            assert "PASSWORD" not in key
    assert model["secrets"]["redis_password"] == {
        "file": "${LAB_SECRETS_DIR:-${HOME}/.local/state/lab/lab/secrets}/redis_password"
    }
    assert model["services"]["redis"]["secrets"] == ["redis_password"]


def test_only_the_api_build_gets_the_ca_bundle_secret():
    services = compose_model.compose_model()["services"]
    assert services["api"]["build"]["secrets"] == ["ca_bundle"]
    assert [n for n, s in services.items() if "secrets" in s["build"]] == ["api"]


def test_no_service_needs_a_pull():
    for svc in compose_model.compose_model()["services"].values():
        assert svc["image"].startswith("lab/") and svc["image"].endswith(":local")
        assert (ROOT / svc["build"]["context"] / "Dockerfile").is_file()


def test_default_project_name():
    assert compose_model.compose_model()["name"] == "lab"
