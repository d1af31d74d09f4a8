import pytest

from lab.catalogue import Endpoint
from lab.compose_cli import ContainerState
from lab.credentials import Credentials
from lab.errors import NotReady
from lab.readiness import Result, died, wait_until_ready, watch_deaths

CREDS = Credentials("r", "p")
E1 = Endpoint("redis", "127.0.0.1", 6379)
E2 = Endpoint("echo", "127.0.0.1", 65432, "udp")


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def scripted(answers):
    """answers: endpoint -> number of failed polls before it answers."""
    calls = []

    def probe(endpoints, _creds):
        calls.append(list(endpoints))
        out = []
        for e in endpoints:
            ok = sum(e in c for c in calls) > answers[e]
            out.append(Result(e, ok, "ok" if ok else "connection refused"))
        return out

    return probe, calls


def test_returns_when_all_answer_and_stops_probing_the_ready_ones():
    t = FakeTime()
    probe, calls = scripted({E1: 0, E2: 3})
    results = wait_until_ready([E1, E2], CREDS, timeout=10, interval=0.2, clock=t.clock, sleep=t.sleep, probe=probe)
    assert [r.endpoint for r in results] == [E1, E2]
    assert calls[0] == [E1, E2] and calls[1:] == [[E2]] * 3
    assert t.now == pytest.approx(0.6)


def test_timeout_names_the_service_and_last_reason():
    t = FakeTime()
    probe, _ = scripted({E1: 10**9, E2: 0})
    with pytest.raises(
        NotReady,
        match=r"redis not ready: no answer at tcp/127.0.0.1:6379 within 5 s "
        r"\(last: connection refused\)",
    ):
        wait_until_ready([E1, E2], CREDS, timeout=5, clock=t.clock, sleep=t.sleep, probe=probe)
    assert 5.0 - 1e-9 <= t.now <= 5.1 + 1e-9  # gives up at the first poll at or past the deadline


def test_a_dead_container_ends_the_wait_at_once():
    t = FakeTime()
    probe, calls = scripted({E1: 10**9})
    with pytest.raises(NotReady, match="postgres not ready: its container exited"):
        wait_until_ready(
            [E1],
            CREDS,
            timeout=100,
            clock=t.clock,
            sleep=t.sleep,
            probe=probe,
            check_alive=lambda: ("postgres", "its container exited (code 7)"),
        )
    assert len(calls) == 1


def state(name: str, status: str, exit_code: int = 0, restarts: int = 0) -> ContainerState:
    return ContainerState(name.split("-")[1], name, status, "", exit_code, (), restarts=restarts)


@pytest.mark.parametrize(
    "status, exit_code, how",
    [
        ("exited", 7, "its container exited (code 7)"),
        ("dead", 137, "its container exited (code 137)"),
        ("stopped", 3, "its container exited (code 3)"),  # Podman's word, between two restarts
        ("restarting", 1, "its container exited (code 1) and keeps restarting"),  # Docker's crash loop
    ],
)
def test_a_container_that_exited_is_dead_by_its_state(status, exit_code, how):
    assert died([state("p-api-1", "running"), state("p-db-1", status, exit_code)], {}) == ("db", how)


def test_a_crash_loop_shown_running_is_dead_by_its_restarts():
    """Podman's crash loop: "running", exit code 0, the restart count climbing ten a second (seen on 4.3)."""
    reads = iter([[state("p-db-1", "running", restarts=4)], [state("p-db-1", "running", restarts=9)]])
    check = watch_deaths(lambda: next(reads))
    assert check() is None  # four restarts before lab began waiting: no death of this wait's
    assert check() == ("db", "its container exited and keeps restarting (5 restarts while lab waited)")


def test_running_restarting_once_starting_or_done_is_not_dead():
    """The control: one restart during the wait (a service that recovers), a clean restart, a container not
    yet started, a one-shot job that completed."""
    before = {"p-db-1": 0, "p-api-1": 0}
    ok = [state("p-db-1", "running", restarts=1), state("p-api-1", "restarting"), state("p-x-1", "created")]
    ok.append(state("p-migrate-1", "exited"))  # a one-shot job, done: code 0
    assert died(ok, before) is None


def test_rounds_are_short_while_services_come_up_and_longer_later(monkeypatch):
    from lab import readiness

    seen = []
    monkeypatch.setattr(readiness, "probe_all", lambda eps, creds, timeout: seen.append(timeout) or [])
    readiness._probe_rounds([E1], CREDS, waited=0.5)
    readiness._probe_rounds([E1], CREDS, waited=30)
    assert seen == [readiness.FIRST_PROBE_TIMEOUT, readiness.LATE_PROBE_TIMEOUT]
    assert readiness.FIRST_PROBE_TIMEOUT < 1 <= readiness.LATE_PROBE_TIMEOUT
