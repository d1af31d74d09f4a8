"""Property-based fuzzing of the running API against its own /openapi.json (schemathesis).

`schemathesis run` (as a subprocess: its pytest loader for a schema from a fixture does not
work with pytest 9) generates valid and invalid requests for every operation in the contract
(coverage, fuzzing and stateful phases), sends them over 127.0.0.1 to the session stack and
runs every check (`--checks all`): no 5xx, status codes, content types, headers and bodies
conform to the schema, invalid data is rejected, valid data accepted, links between
operations hold. The run's JSON report gives the number of cases and the failures.

LAB_FUZZ_SEED=N replays a run (every run prints its seed); LAB_FUZZ_EXAMPLES=N changes the
per-operation example count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("LAB_FUZZ_EXAMPLES", "40"))  # per operation and phase
MIN_CASES = 500
TIME_BUDGET = 180  # seconds for the whole run

# The API documents 413 for oversized bodies (a body over 64 KiB that also breaks the schema's
# maxLength is rejected by size first): a valid rejection of invalid data, so expected here.
# 5xx is *not* listed: invalid input must never crash the API (not_a_server_error checks it too).
CONFIG = """\
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


def test_api_conforms_to_its_openapi_contract(lab_stack, tmp_path, capsys):
    api = lab_stack.env["API_URL"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    report = tmp_path / "report.json"
    seed = os.environ.get("LAB_FUZZ_SEED") or str(int.from_bytes(os.urandom(8), "big"))
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{api}/openapi.json",
        "--url",
        api,
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        seed,
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--output-truncate",
        "true",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--report-dir",
        str(tmp_path / "reports"),
    ]
    try:
        proc = subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, timeout=TIME_BUDGET, env={**os.environ, "NO_COLOR": "1"}
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"schemathesis did not finish within {TIME_BUDGET} s (seed {seed})")
    assert report.exists(), f"no report (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(report.read_text())

    cases = result["test_cases"]["generated"]
    failures = [
        f"{f['code']} {f['title']} ×{f['count']} on {', '.join(map(str, f['operations']))}" for f in result["failures"]
    ]
    with capsys.disabled():  # shown even when the test passes
        print(
            f"\nschemathesis: {cases} cases against {result['operations']['tested']} operations, "
            f"{len(failures)} kinds of failure, seed {seed}, {result['running_time']:.1f} s"
        )
    detail = "\n".join(failures) + "\n" + proc.stdout[-6000:]

    assert result["complete"] and result["stop_reason"] == "completed", detail
    assert result["operations"]["tested"] == result["operations"]["total"] >= 13, result["operations"]
    assert result["errors"] == [], detail
    assert failures == [], detail
    assert proc.returncode == 0, detail
    assert cases >= MIN_CASES, f"only {cases} cases were generated"
