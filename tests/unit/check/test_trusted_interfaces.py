"""LAB029: a project network that trusts host interfaces past Docker 28's direct-routing drop."""

from __future__ import annotations

import json

import pytest

from tests.unit.check.conftest import lab

FILE = """services:
  web:
    image: nginx
    ports: ["127.0.0.1:18181:80"]
    networks: [lan]
networks:
  lan:
    driver_opts:
      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"
{option}"""
OPTION = '      com.docker.network.bridge.trusted_host_interfaces: "{value}"\n'


def trusted(out) -> list[dict]:
    return [f for f in json.loads(out.stdout)["findings"] if f["rule"] == "LAB029"]


@pytest.mark.parametrize("value", ["eth0", "eth0:wlan+"])
def test_trusted_host_interfaces_are_medium_at_their_line_naming_each(project, value):
    root = project({"compose.yaml": FILE.format(option=OPTION.format(value=value))})
    out = lab("check", "--format", "json", cwd=root)
    assert out.returncode == 0, out.stderr  # medium: the default --fail-on high passes
    [f] = trusted(out)
    assert (f["severity"], f["file"], f["line"]) == ("medium", "compose.yaml", 10)
    assert all(name in f["message"] for name in value.split(":")) and "trusted_host_interfaces" in f["fix"]
    assert lab("check", "--fail-on", "medium", cwd=root).returncode == 1


@pytest.mark.parametrize("option", ["", OPTION.format(value="")], ids=["absent", "empty"])
def test_a_network_without_trusted_interfaces_passes(project, option):
    out = lab("check", "--format", "json", cwd=project({"compose.yaml": FILE.format(option=option)}))
    assert out.returncode == 0, out.stderr
    assert trusted(out) == []
