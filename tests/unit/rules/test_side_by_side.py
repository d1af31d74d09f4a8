"""compose-lint (PyPI, the test extra) as the yardstick: on a corpus shaped like what people publish, for
every (service, CL rule) it reports, lab's equivalent rule fires on the same service — through both
tools' real entry points (`compose-lint --format json`, `lab check --format json` on Compose's config).

The corpus (tests/unit/rules/corpus/): one compose file per case, copied in as compose.yaml, with its
`NAME.env` as `.env` and the other non-YAML files beside it (env_files). The match rate is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.unit.check.conftest import compose_available, lab  # noqa: F401 (an autouse fixture: no Compose, skip)

CORPUS = Path(__file__).parent / "corpus"

# compose-lint's rule -> lab's (docs/rules/README.md is the table for people).
EQUIVALENT = {
    "CL-0001": "LAB008",
    "CL-0002": "LAB006",
    "CL-0003": "LAB016",
    "CL-0004": "LAB017",
    "CL-0005": "LAB001",
    "CL-0006": "LAB018",
    "CL-0007": "LAB019",
    "CL-0008": "LAB004",
    "CL-0009": "LAB011",
    "CL-0010": "LAB007",
    "CL-0011": "LAB010",
    "CL-0013": "LAB009",
    "CL-0014": "LAB020",
    "CL-0016": "LAB021",
    "CL-0017": "LAB022",
    "CL-0018": "LAB023",
    "CL-0019": "LAB024",
    "CL-0020": "LAB025",
    "CL-0021": "LAB026",
    "CL-0022": "LAB027",
    "CL-0024": "LAB010",
    "CL-0025": "LAB009",
    "CL-0026": "LAB028",
    "CL-0027": "LAB010",
    "CL-0028": "LAB010",
    "CL-0029": "LAB010",
    "CL-0030": "LAB010",
}

BUILT_HERE = "`build:`: its image is built here, not pulled; lab's pin rules leave it to the Dockerfile"
# (corpus file, service, CL rule): why lab deliberately does not fire there.
DIFFERENCES = {
    ("dev-stack.yaml", "app", "CL-0004"): BUILT_HERE,
    ("sentry-like.yaml", "clickhouse", "CL-0004"): BUILT_HERE,
}


def _project(case: Path, root: Path) -> Path:
    root.mkdir()
    for other in CORPUS.iterdir():
        if other.suffix != ".yaml":
            shutil.copy(other, root / other.name)
    shutil.copy(case, root / "compose.yaml")
    env = CORPUS / f"{case.stem}.env"
    if env.is_file():
        shutil.copy(env, root / ".env")
    return root


def compose_lint(root: Path) -> set[tuple[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    argv = [sys.executable, "-m", "compose_lint", "--format", "json", "--fail-on", "critical", "compose.yaml"]
    out = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    return {(f["service"], f["rule_id"]) for f in json.loads(out.stdout)["findings"] if not f.get("suppressed")}


def lab_check(root: Path) -> set[tuple[str, str]]:
    out = lab("check", "--format", "json", "--fail-on", "low", cwd=root)
    assert out.returncode in (0, 1), out.stderr
    return {(f["service"], f["rule"]) for f in json.loads(out.stdout)["findings"]}


def test_every_compose_lint_finding_has_labs_equivalent_on_the_same_service(tmp_path):
    total, matched, unexplained, seen_differences = 0, 0, [], set()
    for case in sorted(CORPUS.glob("*.yaml")):
        root = _project(case, tmp_path / case.stem)
        theirs, ours = compose_lint(root), lab_check(root)
        assert theirs, f"{case.name}: compose-lint found nothing — a comparison with nothing proves nothing"
        for service, rule in sorted(theirs):
            total += 1
            assert rule in EQUIVALENT, f"compose-lint has a rule lab does not map: {rule}"
            if (service, EQUIVALENT[rule]) in ours:
                matched += 1
            elif (case.name, service, rule) in DIFFERENCES:
                seen_differences.add((case.name, service, rule))
            else:
                unexplained.append(f"{case.name}: {service} {rule} (lab's {EQUIVALENT[rule]} did not fire)")
    print(f"\nside by side with compose-lint: {matched}/{total} findings matched = {100 * matched / total:.1f} %")
    assert unexplained == []
    assert seen_differences == set(DIFFERENCES)  # a listed difference that no longer happens: drop it
    assert matched / total >= 0.95


def test_the_new_rules_point_at_the_line_that_says_it(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        """services:
  app:
    image: myorg/app
    user: root
    environment:
      LOG_LEVEL: info
      DB_PASSWORD: hunter2
      DATABASE_URL: postgres://app:hunter2@db/app
    devices:
      - /dev/dri:/dev/dri
      - /dev/sda:/dev/sda
    tmpfs:
      - /run
      - /tmp:exec
    logging:
      driver: none
"""
    )
    out = lab("check", "--format", "json", cwd=tmp_path)
    got = {(f["rule"], f["line"]) for f in json.loads(out.stdout)["findings"]}
    assert {("LAB017", 3), ("LAB023", 4), ("LAB025", 7), ("LAB026", 8), ("LAB021", 11), ("LAB027", 14)} <= got
    assert ("LAB020", 16) in got
    assert not any("hunter2" in f["message"] for f in json.loads(out.stdout)["findings"])


def test_a_credential_in_list_form_environment_points_at_its_own_line(tmp_path):
    """`- KEY=value` entries: the finding is on the entry's line, not on `environment:`."""
    (tmp_path / "compose.yaml").write_text(
        """services:
  app:
    image: myorg/app:1.2
    environment:
      - LOG_LEVEL=info
      - DB_PASSWORD=hunter2
      - DATABASE_URL=postgres://app:hunter2@db/app
"""
    )
    out = lab("check", "--format", "json", cwd=tmp_path)
    got = {(f["rule"], f["line"]) for f in json.loads(out.stdout)["findings"]}
    assert {("LAB025", 6), ("LAB026", 7)} <= got, got
