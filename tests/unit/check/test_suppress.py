"""Suppressions (a comment on the line, .lab.toml) and the baseline: reported, never dropped, never
counted; bad ones are one line and exit 2 (issue 31)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.unit.check.conftest import lab, sarif_errors

EXPOSED = """services:
  web:
    image: nginx
    ports:
      - "8080:80"  # lab: ignore[LAB001] the demo is for phones on this Wi-Fi
      # lab: ignore[LAB001, LAB003] the same, for the admin port
      - "9090:90"
      - "7070:70"
    cap_add: [SYS_PTRACE]
  db:
    image: postgres
    cap_add: [SYS_PTRACE]
"""


def findings(out: subprocess.CompletedProcess) -> list[dict]:
    return json.loads(out.stdout)["findings"]


def by_key(found: list[dict], rule: str) -> dict[str, dict]:
    return {f"{f['service']} {f['message'].split(':')[0]}": f for f in found if f["rule"] == rule}


def test_inline_suppressions_are_reported_with_their_reason_and_not_counted(project):
    root = project({"compose.yaml": EXPOSED})
    out = lab("check", "--format", "json", cwd=root)
    ports = by_key(findings(out), "LAB001")
    assert ports["web tcp/8080->80"]["suppressed"] == {
        "kind": "inSource",
        "justification": "the demo is for phones on this Wi-Fi",
        "where": "compose.yaml:5",
    }
    assert ports["web tcp/9090->90"]["suppressed"]["where"] == "compose.yaml:6"  # alone on the line above
    assert ports["web tcp/7070->70"]["suppressed"] is None  # the control: the next port still counts
    assert out.returncode == 1
    text = lab("check", cwd=root).stdout
    assert "tcp/7070->70" in text and "tcp/8080->80" not in text and "(2 suppressed; " in text


def test_suppressed_findings_do_not_count_toward_fail_on(project):
    root = project({"compose.yaml": EXPOSED.replace('      - "7070:70"\n', "")})
    assert lab("check", cwd=root).returncode == 0
    assert lab("check", "--fail-on", "medium", cwd=root).returncode == 1  # the capabilities still count


def test_the_config_turns_a_rule_off_or_changes_its_severity_per_service(project):
    config = """[check.rules]
LAB014 = "off"
[check.services.db]
LAB010 = { severity = "off", reason = "pg_stat_statements' debugger" }
[check.services.web]
LAB010 = "low"
"""
    root = project({"compose.yaml": EXPOSED, ".lab.toml": config})
    found = findings(lab("check", "--format", "json", cwd=root))
    caps = {f["service"]: f for f in found if f["rule"] == "LAB010"}
    assert caps["db"]["suppressed"] == {
        "kind": "external",
        "justification": "pg_stat_statements' debugger",
        "where": ".lab.toml",
    }
    assert (caps["web"]["severity"], caps["web"]["suppressed"]) == ("low", None)
    [net] = [f for f in found if f["rule"] == "LAB014"]
    assert net["suppressed"]["justification"] == "turned off in .lab.toml"
    assert lab("check", "--fail-on", "medium", cwd=root).returncode == 1  # LAB001 on 7070 is still high


def test_fix_leaves_a_suppressed_port_as_it_is(project):
    root = project({"compose.yaml": EXPOSED})
    out = lab("fix", "--write", cwd=root)
    assert out.returncode == 0, out.stderr
    override = (root / "compose.loopback.yaml").read_text()
    kept = '{mode: "ingress", target: 80, published: "8080", protocol: "tcp"}'
    assert f"{kept}  # lab: ignore[LAB001] the demo is for phones on this Wi-Fi\n" in override
    assert 'target: 70, published: "7070", protocol: "tcp", host_ip: "127.0.0.1"' in override
    # The override is the last file, where the kept ports are now found: they stay suppressed there.
    both = lab("check", "-f", "compose.yaml", "-f", "compose.loopback.yaml", "--format", "json", cwd=root)
    assert both.returncode == 0, both.stdout
    assert all(f["suppressed"] for f in findings(both) if f["rule"] == "LAB001")


def test_the_baseline_survives_lines_moving_and_fails_only_on_new_findings(project):
    root = project({"compose.yaml": EXPOSED})
    write = lab("check", "--write-baseline", "lab-baseline.json", cwd=root)
    assert write.returncode == 0 and "written to lab-baseline.json" in write.stderr
    assert lab("check", "--baseline", "lab-baseline.json", cwd=root).returncode == 0
    # Lines move, nothing else: a new service would bring findings of its own (an untagged image, LAB017).
    moved = EXPOSED.replace("services:\n", "# a comment\n\nx-owner:\n  team: ops\nservices:\n")
    (root / "compose.yaml").write_text(moved)
    still = lab("check", "--baseline", "lab-baseline.json", "--format", "json", cwd=root)
    assert still.returncode == 0 and {f["baseline"] for f in findings(still) if not f["suppressed"]} == {"unchanged"}
    (root / "compose.yaml").write_text(moved + '    ports: ["5432:5432"]\n')  # a new exposure on db
    new = lab("check", "--baseline", "lab-baseline.json", "--format", "json", cwd=root)
    assert new.returncode == 1
    assert [f["message"][:14] for f in findings(new) if f["baseline"] == "new"] == ["tcp/5432->5432"]


def test_sarif_carries_suppressions_fingerprints_baseline_state_and_help(project, tmp_path):
    root = project({"compose.yaml": EXPOSED, ".lab.toml": '[check.rules]\nLAB014 = "off"\n'})
    lab("check", "--write-baseline", "b.json", cwd=root)
    out = lab("check", "--format", "sarif", "--baseline", "b.json", cwd=root)
    doc = json.loads(out.stdout)
    valid = sarif_errors(out.stdout, tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    run = doc["runs"][0]
    kinds = sorted(s["kind"] for r in run["results"] for s in r.get("suppressions", []))
    assert kinds == ["external", "inSource", "inSource"]
    assert all(s["justification"] for r in run["results"] for s in r.get("suppressions", []))
    assert all(len(r["partialFingerprints"]["labFinding/v1"]) == 16 for r in run["results"])
    assert {r.get("baselineState") for r in run["results"] if not r.get("suppressions")} == {"unchanged"}
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["help"]["markdown"].startswith(f"# {rule['id']}")
        if "helpUri" in rule:
            assert rule["helpUri"].endswith(f"docs/rules/{rule['id']}.md")


BAD = {
    "a suppression with no reason": (
        {"compose.yaml": EXPOSED.replace(" the demo is for phones on this Wi-Fi", "")},
        [],
        "compose.yaml:5: the suppression of LAB001 gives no reason",
    ),
    "an unknown rule in a suppression": (
        {"compose.yaml": EXPOSED.replace("ignore[LAB001] the", "ignore[LAB999] the")},
        [],
        "compose.yaml:5: unknown rule LAB999 in a suppression",
    ),
    "a suppression without brackets": (
        {"compose.yaml": EXPOSED.replace("ignore[LAB001] the", "ignore LAB001 the")},
        [],
        "compose.yaml:5: a suppression names its rules in brackets",
    ),
    "an unknown rule in the config": (
        {"compose.yaml": EXPOSED, ".lab.toml": '[check.services.web]\nLAB999 = "off"\n'},
        [],
        "unknown rule LAB999 in [check.services.web]",
    ),
    "a severity that is not one": (
        {"compose.yaml": EXPOSED, ".lab.toml": '[check.rules]\nLAB001 = "severe"\n'},
        [],
        "check.rules.LAB001 = 'severe': choose one of low, medium, high, off",
    ),
    "a config that is not TOML": ({"compose.yaml": EXPOSED, ".lab.toml": "[check\n"}, [], ".lab.toml: not TOML"),
    "a missing --config": ({"compose.yaml": EXPOSED}, ["--config", "none.toml"], "--config "),
    "a baseline that is not JSON": (
        {"compose.yaml": EXPOSED, "b.json": "LAB001 web\n"},
        ["--baseline", "b.json"],
        "--baseline b.json: not a lab baseline (not JSON",
    ),
    "a baseline that is another JSON": (
        {"compose.yaml": EXPOSED, "b.json": '{"findings": []}'},
        ["--baseline", "b.json"],
        "--baseline b.json: not a lab baseline (no ",
    ),
    "a missing baseline": ({"compose.yaml": EXPOSED}, ["--baseline", "b.json"], "--baseline b.json: no such file"),
    "an unknown rule to explain": ({}, ["--explain", "LAB999"], "unknown rule LAB999"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_suppressions_config_and_baselines_are_one_line_exit_2(project, case):
    files, args, said = BAD[case]
    out = lab("check", *args, cwd=project(files))
    assert out.returncode == 2 and out.stdout == ""
    error, hint = out.stderr.splitlines()
    assert error.startswith("lab: error: ") and said in error, error
    assert hint.startswith("lab: hint: ")


def test_explain_prints_the_rules_page_or_its_metadata(project):
    out = lab("check", "--explain", "lab014", cwd=project({}))
    assert out.returncode == 0 and out.stdout.startswith("# LAB014")
    assert "host_binding_ipv4" in out.stdout


def test_rules_lists_every_rule_and_says_which_lab_fix_repairs(project):
    from lab import rules

    out = lab("check", "--rules", cwd=project({})).stdout
    assert all(r.id in out for r in rules.RULES)
    assert [line.split()[2] for line in out.splitlines() if line.startswith("LAB001")] == ["lab"]
