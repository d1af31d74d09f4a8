"""Faults: a killed, a paused (hung) service, and durability across down/up and kill -9.

Times are printed, not asserted tightly (the machine is shared): the bound below only catches a hang.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis
import requests

from lab import connenv, engine, stack
from lab.catalogue import SERVICES
from tests.integration.conftest import new_project, start, stop
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
HANG = 15.0  # far above the probes' 2 s budget: only a hang gets here


@pytest.fixture(scope="module")
def faulty(engine_ok):
    p = new_project("labtest-faults")
    try:
        yield start(p)
    finally:
        stop(p)


def lab_cli(*args):
    start_ = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=300)
    return out, time.monotonic() - start_


def container(p, service):
    return f"{p.name}-{service}-1"


def failing_services(verify_json: str) -> set[str]:
    doc = json.loads(verify_json)
    return {c["target"].split()[0] for c in doc["checks"] if c["name"] == "reach" and c["status"] == "fail"}


def written_to_the_aof(r, bound: float = 10.0) -> None:
    """Wait until redis has written its AOF buffer to the file: a kill -9 keeps what the kernel holds. With
    `appendfsync everysec` redis postpones that write while a slow fsync runs (seen on Podman 5's storage
    under load), so an acknowledged SET can still be in its buffer when the process dies."""
    wait_for(lambda: not int(r.info("persistence").get("aof_buffer_length", 0)), bound, "redis writing its AOF buffer")


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_a_killed_service_is_named_by_verify_and_healed_by_up(faulty, service):
    p = faulty.project
    r = redis.Redis.from_url(faulty.env["REDIS_URL"])
    r.set("fault:kept", service)
    written_to_the_aof(r)
    subprocess.run(["docker", "kill", "-s", "KILL", container(p, service)], check=True, capture_output=True)
    out, took = lab_cli("verify", "--project", p.name, "--json")
    print(f"\nverify with {service} killed: exit {out.returncode} in {took:.2f} s")
    assert out.returncode == 1 and took < HANG
    assert service in failing_services(out.stdout)
    healed, took = lab_cli("up", "--project", p.name)
    print(f"lab up healed {service} in {took:.2f} s")
    assert healed.returncode == 0, healed.stderr
    assert redis.Redis.from_url(faulty.env["REDIS_URL"]).get("fault:kept") == service.encode()


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_a_hung_service_is_reported_within_budget_and_resumed_by_up(faulty, service):
    p = faulty.project
    paused = subprocess.run(["docker", "pause", container(p, service)], capture_output=True, text=True)
    if paused.returncode != 0 and not engine.kind().cgroups:  # the freezer is a cgroup: asked, not assumed
        pytest.skip(f"skipped: this engine has no cgroups and cannot pause ({paused.stderr.strip()})")
    assert paused.returncode == 0, paused.stderr
    try:
        out, took_verify = lab_cli("verify", "--project", p.name, "--json")
        status, took_status = lab_cli("status", "--project", p.name, "--json")
    finally:
        resumed, took_up = lab_cli("up", "--project", p.name)
    print(
        f"\n{service} paused: verify {took_verify:.2f} s, status {took_status:.2f} s; up resumed it in {took_up:.2f} s"
    )
    assert out.returncode == 1 and took_verify < HANG and service in failing_services(out.stdout)
    rows = {r["service"]: r for r in json.loads(status.stdout)["services"]}
    assert status.returncode == 1 and took_status < HANG
    assert rows[service]["state"].startswith("paused") and rows[service]["detail"] != "answers"
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming paused {service}" in resumed.stderr


def test_two_thousand_writes_survive_down_up_and_kill_9(faulty):
    """1000 keys and 1000 items through the API; then `down` + `up`; then kill -9 of redis and postgres
    and `up`: all 2000 are there (redis: AOF, appendfsync everysec; postgres: WAL). The module's stack,
    healed by the tests before (it is the last here): a stack of its own would only add a start."""
    p, api = faulty.project, faulty.env["API_URL"]
    # The tests before paused and killed postgres: the API's pool may still be replacing a dead
    # connection (a 503 naming postgres) for a moment after `lab up` said the stack answers.
    with requests.Session() as http:
        http.trust_env = False
        answers = []

        def created() -> bool:
            answers.append(http.post(f"{api}/items", json={"name": "ready"}, timeout=10))
            return answers[-1].status_code == 201

        wait_for(created, 60, lambda: f"the API creating an item (last: {answers[-1].text})", interval=0.2)

    def put(i):
        with requests.Session() as http:
            http.trust_env = False
            assert http.put(f"{api}/kv/dur-{i}", json={"value": f"v{i}"}, timeout=10).status_code == 200
            assert http.post(f"{api}/items", json={"name": f"dur-{i}"}, timeout=10).status_code == 201

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(1000)))

    def count() -> tuple[int, int]:
        env = connenv.settings(p, p.credentials())
        keys = len(redis.Redis.from_url(env["REDIS_URL"]).keys("kv:dur-*"))
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            items = conn.execute("SELECT count(*) FROM items WHERE name LIKE 'dur-%'").fetchone()[0]
        return keys, items

    assert count() == (1000, 1000)
    stack.down(p)
    stack.up(p)
    assert count() == (1000, 1000)
    for service in ("redis", "postgres"):
        subprocess.run(["docker", "kill", "-s", "KILL", container(p, service)], check=True, capture_output=True)
    stack.up(p)
    assert count() == (1000, 1000)
