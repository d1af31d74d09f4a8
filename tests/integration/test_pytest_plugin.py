"""The pytest plugin, used as a user would: a test file of theirs, run by pytest (pytester) in a subprocess."""

from __future__ import annotations

import json
import os

import pytest

from lab import engine
from lab import project as projects
from tests.integration.conftest import dynamic_ports

pytestmark = pytest.mark.integration
pytest_plugins = ["pytester"]
CACHE = projects.user_cache_home()  # read before pytester gives the runs a HOME of their own


@pytest.fixture(autouse=True)
def labs_image_record(monkeypatch):
    """The user's runs keep the record of which image was built from which inputs: with none (a HOME of
    their own) their lab rebuilds all four images and retags them under every other stack on the engine."""
    monkeypatch.setenv("LAB_CACHE_HOME", str(CACHE))


USER_TESTS = """
import json, os, psycopg, redis, requests

def record(lab_stack):
    with open({seen!r}, "a") as fh:
        fh.write(json.dumps([os.environ.get("PYTEST_XDIST_WORKER", "main"), lab_stack.project]) + "\\n")

def test_redis(redis_url, lab_stack):
    record(lab_stack)
    assert redis.Redis.from_url(redis_url).ping()

def test_postgres(database_url, lab_stack):
    record(lab_stack)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)

def test_api_and_echo(api_url, echo_tcp, echo_udp, lab_verified):
    record(lab_verified)
    assert requests.get(api_url + "/health", timeout=5).json()["status"] == "ok"
    assert echo_tcp == echo_udp and echo_tcp.startswith("127.0.0.1:")
"""


def containers_of(project: str) -> list[str]:
    found = engine.client().containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    return [c.name for c in found]


def test_a_users_tests_share_one_stack_under_xdist_and_leave_nothing(pytester, tmp_path):
    seen = tmp_path / "seen.jsonl"
    pytester.makepyfile(test_user=USER_TESTS.format(seen=str(seen)))
    with dynamic_ports():  # the plugin's stack is on --dynamic-ports
        result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=3)
    rows = [json.loads(line) for line in seen.read_text().splitlines()]
    assert len({worker for worker, _ in rows}) == 2  # both workers ran tests...
    [project] = {name for _, name in rows}  # ...against one stack
    assert project.startswith("labpt-")
    assert containers_of(project) == []  # torn down by the last worker


def test_lab_project_reuses_a_running_stack_and_leaves_it_running(pytester, tmp_path, lab_stack, monkeypatch):
    # pytester gives the run a HOME of its own: point it at the state home that holds this stack.
    # (the session's, not `state_root`: on a second engine that is already the per-engine folder under it)
    monkeypatch.setenv("LAB_STATE_HOME", os.environ["LAB_STATE_HOME"])
    seen = tmp_path / "seen.jsonl"
    pytester.makepyfile(test_user=USER_TESTS.format(seen=str(seen)))
    name = lab_stack.project.name
    result = pytester.runpytest_subprocess("--lab-project", name, "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=3)
    assert {p for _, p in (json.loads(line) for line in seen.read_text().splitlines())} == {name}
    assert len(containers_of(name)) == 4
