"""LAB015: a project network with gateway mode routed or nat-unprotected, named at its file and line."""

from __future__ import annotations

import json

import pytest

from tests.unit.check.conftest import lab

FILE = """services:
  web:
    image: nginx
    ports: ["127.0.0.1:18181:80"]
    networks: [{net}]
networks:
  {net}:
    driver_opts:
      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"
      com.docker.network.bridge.gateway_mode_{family}: {mode}
"""


def gateway(out) -> list[dict]:
    """LAB015's findings (the service's hardening rules, LAB016 on, have their own tests)."""
    return [f for f in json.loads(out.stdout)["findings"] if f["rule"] == "LAB015"]


@pytest.mark.parametrize("mode", ["routed", "nat-unprotected"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_an_unprotected_gateway_mode_is_high_at_its_line(project, mode, family):
    root = project({"compose.yaml": FILE.format(net="lan", family=family, mode=mode)})
    out = lab("check", "--format", "json", cwd=root)
    assert out.returncode == 1, out.stderr
    [f] = gateway(out)
    assert (f["rule"], f["severity"], f["file"], f["line"]) == ("LAB015", "high", "compose.yaml", 10)
    assert f"gateway_mode_{family} {mode}" in f["message"] and "gateway_mode" in f["fix"]


@pytest.mark.parametrize("mode", ["nat", "isolated"])
def test_the_default_and_isolated_modes_pass(project, mode):
    root = project({"compose.yaml": FILE.format(net="lan", family="ipv4", mode=mode)})
    out = lab("check", "--format", "json", cwd=root)
    assert out.returncode == 0, out.stderr
    assert gateway(out) == []


@pytest.mark.parametrize("how", [[], ["--in-place"]], ids=["override", "in-place"])
@pytest.mark.parametrize("mode", ["routed", "nat-unprotected"])
def test_lab_fix_takes_the_gateway_mode_out_and_check_then_passes(project, mode, how):
    """The override resets the option with Compose's `!reset` (the merged config has none: the engine's
    default, nat, honours the host IP); --in-place deletes it from the file that wrote it."""
    root = project({"compose.yaml": "# theirs\n" + FILE.format(net="lan", family="ipv4", mode=mode)})
    fixed = lab("fix", "--write", *how, cwd=root)
    assert fixed.returncode == 0, fixed.stderr
    assert "gateway mode back to the default on lan" in fixed.stderr
    files = ["-f", "compose.yaml"] + ([] if how else ["-f", "compose.loopback.yaml"])
    after = lab("check", "--format", "json", *files, cwd=root)
    assert after.returncode == 0, after.stdout
    assert gateway(after) == []
    text = (root / "compose.yaml").read_text()
    if how:  # edited in place, the rest of the file (comment, the loopback host binding) as it was
        assert "gateway_mode" not in text and text.startswith("# theirs\n") and "host_binding_ipv4" in text
    else:  # the user's file untouched
        assert f"gateway_mode_ipv4: {mode}" in text
        assert (
            "com.docker.network.bridge.gateway_mode_ipv4: !reset null" in (root / "compose.loopback.yaml").read_text()
        )
