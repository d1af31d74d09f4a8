"""Property-based fuzzing of the running API against its own /openapi.json (schemathesis).

Every operation of the contract gets MAX_EXAMPLES generated cases (plus schemathesis's
coverage-phase cases), valid and invalid, sent over 127.0.0.1 to the session stack. Every
response goes through all of schemathesis's checks: no 5xx, status code, content type,
headers and body conform to the schema, invalid data is rejected, valid data accepted.
A second test asserts the total number of cases run (>= 500) and prints it.
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 50   # per operation; the contract has 13 operations
MIN_CASES = 500
TIMEOUT = 10

RUN = {"cases": 0, "by_status": {}}


@pytest.fixture(scope="module")
def api_schema(lab_stack):
    url = lab_stack.env["API_URL"]
    return schemathesis.openapi.from_url(url + "/openapi.json", timeout=TIMEOUT)


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_contract(case, lab_stack, http):
    response = case.call_and_validate(base_url=lab_stack.env["API_URL"], session=http, timeout=TIMEOUT)
    RUN["cases"] += 1
    RUN["by_status"][response.status_code] = RUN["by_status"].get(response.status_code, 0) + 1
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])


def test_fuzzing_ran_enough_cases(capsys):
    with capsys.disabled():
        by_status = ", ".join(f"{k}: {v}" for k, v in sorted(RUN["by_status"].items()))
        print(f"\nschemathesis: {RUN['cases']} cases run against the api ({by_status})")
    assert RUN["cases"] >= MIN_CASES, f"only {RUN['cases']} cases ran"
    assert not [s for s in RUN["by_status"] if s >= 500]
