"""`lab check`'s outputs (JSON shape, SARIF 2.1.0 against the OASIS schema, annotations), exit codes,
bad input (one line, exit 2, nothing written) and the pre-commit hook run by the real pre-commit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.check.conftest import lab, sarif_errors

REPO = Path(__file__).resolve().parents[3]
EXPOSED = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n    cap_add: [SYS_PTRACE]\n'


def test_json_has_the_documented_shape(project):
    root = project({"compose.yaml": EXPOSED})
    out = lab("check", "--format", "json", cwd=root)
    doc = json.loads(out.stdout)
    assert out.returncode == 1 and doc["files"] == ["compose.yaml"]
    [port] = [f for f in doc["findings"] if f["rule"] == "LAB001"]
    assert set(port) == {"rule", "severity", "service", "file", "line", "message", "fix", "port"} | {
        "fingerprint",
        "suppressed",
        "baseline",
    }
    assert (port["suppressed"], port["baseline"], len(port["fingerprint"])) == (None, None, 16)
    assert port["port"] == {"published": "8080", "target": 80, "protocol": "tcp", "host_ip": None}
    assert (port["severity"], port["service"], port["file"], port["line"]) == ("high", "web", "compose.yaml", 4)


def test_sarif_validates_against_the_sarif_2_1_0_schema(project, tmp_path):
    root = project({"compose.yaml": EXPOSED})
    out = lab("check", "--format", "sarif", cwd=root)
    valid = sarif_errors(out.stdout, tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    # The control: the same validator refuses a document that breaks the schema.
    broken = json.loads(out.stdout)
    broken["runs"][0]["results"][0]["level"] = "severe"
    assert sarif_errors(json.dumps(broken), tmp_path).returncode == 1
    results = json.loads(out.stdout)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"LAB001", "LAB010"}


def test_github_annotations_and_fail_on(project):
    root = project({"compose.yaml": EXPOSED.replace('"8080:80"', '"127.0.0.1:8080:80"')})
    out = lab("check", "--format", "github", cwd=root)
    assert out.returncode == 0  # only medium findings: below the default --fail-on high
    assert "::warning file=compose.yaml,line=5,title=LAB010 dangerous-capability::" in out.stdout
    assert lab("check", "--fail-on", "medium", cwd=root).returncode == 1


BAD = {
    "not YAML": ({"compose.yaml": "services:\n  web: [unclosed\n"}, [], "the compose files do not load"),
    "not Compose": ({"compose.yaml": "- just\n- a list\n"}, [], "the compose files do not load"),
    "missing file": ({}, ["-f", "nope.yaml"], "nope.yaml: no such file"),
    "no compose file here": ({"README": "x"}, [], "no compose file in"),
    "missing --env-file": ({"compose.yaml": EXPOSED}, ["--env-file", "none.env"], "--env-file none.env: no such file"),
    "unknown profile": ({"compose.yaml": EXPOSED}, ["--profile", "debug"], "unknown profile 'debug'"),
    "a required variable unset": (
        {"compose.yaml": 'services:\n  web:\n    image: x\n    ports: ["${NEED:?set NEED}:80"]\n'},
        [],
        "required variable NEED is missing a value",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", ["check", "fix"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(project, case, command):
    files, args, said = BAD[case]
    root = project(files)
    before = sorted(p.name for p in root.iterdir())
    out = lab(command, *args, *(["--write"] if command == "fix" else []), cwd=root)
    lines = out.stderr.splitlines()
    assert out.returncode == 2, out.stderr
    assert lines[0].startswith("lab: error: ") and said in lines[0], out.stderr
    assert len(lines) == 2 and lines[1].startswith("lab: hint: ")
    assert sorted(p.name for p in root.iterdir()) == before


def test_an_unwritable_output_is_refused_and_nothing_written(project):
    root = project({"compose.yaml": EXPOSED})
    out = lab("fix", "--write", "--output", str(root / "no" / "such" / "dir" / "o.yaml"), cwd=root)
    assert out.returncode == 2 and "lab: error: cannot write" in out.stderr
    assert sorted(p.name for p in root.iterdir()) == ["compose.yaml"]


def test_a_missing_service_env_file_is_checked_without_it_and_said(project):
    root = project(
        {"compose.yaml": EXPOSED.replace("    image: nginx\n", "    image: nginx\n    env_file: secret.env\n")}
    )
    out = lab("check", cwd=root)
    assert out.returncode == 1 and "LAB001" in out.stdout
    assert "env file" in out.stdout and "checked without" in out.stdout


def hook_repo(tmp_path: Path) -> Path:
    """This repository's hook as a git repository of its own in another folder, as a user's clone of it
    (a checkout CI runs in may have no .git)."""
    repo = tmp_path / "hook"
    repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, repo / name)
    shutil.copytree(REPO / "lab", repo / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "hook"], check=True)
    return repo


def test_the_pre_commit_hook_fails_a_bad_file_and_passes_the_fixed_one(tmp_path):
    """The real pre-commit installs this repository's hook (try-repo) into its own environment."""
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    hooks = hook_repo(tmp_path)
    repo = tmp_path / "user"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "compose.yaml").write_text(EXPOSED.replace("    cap_add: [SYS_PTRACE]\n", ""))
    subprocess.run([*git, "add", "compose.yaml"], check=True)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    env = {**__import__("os").environ, **env}

    def hook() -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "try-repo", str(hooks), "lab-check", "--all-files"],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    bad = hook()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"lab check \(compose ports on loopback only, no host escapes\)\.+Failed", bad.stdout)
    assert "high LAB001 service web: tcp/8080->80" in bad.stdout
    assert lab("fix", "--in-place", "--write", cwd=repo).returncode == 0
    subprocess.run([*git, "add", "compose.yaml"], check=True)
    good = hook()
    assert good.returncode == 0, good.stdout + good.stderr
