import pytest

from lab.catalogue import Endpoint
from lab.credentials import Credentials
from lab.errors import NotReady
from lab.readiness import Result, wait_until_ready

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
            [E1], CREDS, timeout=100, clock=t.clock, sleep=t.sleep, probe=probe, check_alive=lambda: "postgres"
        )
    assert len(calls) == 1


def test_rounds_are_short_while_services_come_up_and_longer_later(monkeypatch):
    from lab import readiness

    seen = []
    monkeypatch.setattr(readiness, "probe_all", lambda eps, creds, timeout: seen.append(timeout) or [])
    readiness._probe_rounds([E1], CREDS, waited=0.5)
    readiness._probe_rounds([E1], CREDS, waited=30)
    assert seen == [readiness.FIRST_PROBE_TIMEOUT, readiness.LATE_PROBE_TIMEOUT]
    assert readiness.FIRST_PROBE_TIMEOUT < 1 <= readiness.LATE_PROBE_TIMEOUT
