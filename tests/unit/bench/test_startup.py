from lab.bench.procs import Run
from lab.bench.startup import Bench, per_service, spans


def _run(started: float = 100.0) -> Run:
    marks = [
        {"event": e, "t": started + t}
        for e, t in [("audit", 0.0), ("ports", 0.3), ("images", 0.35), ("create", 0.4), ("harden", 0.42),
                     ("start", 0.45), ("verify", 1.2), ("wait", 1.21), ("up", 2.5), ("verified", 2.7)]
    ] + [{"event": "ready", "service": "api", "t": started + 2.4}]  # fmt: skip
    events = [{"service": "api", "status": "start", "t": started + 1.0}]
    return Run(["lab", "up"], started, 2.8, marks, events)


def test_phases_are_spans_from_their_mark_to_the_next_and_verify_overlaps_the_wait():
    found = {label: (round(a, 2), round(b, 2)) for label, a, b in spans(_run())}
    assert found["compose up"] == (0.45, 1.21)
    assert found["wait for answers"] == (1.21, 2.5)
    assert found["verify"] == (1.2, 2.7)  # begun with the containers, ended after the last answer


def test_a_phase_without_its_end_mark_is_left_out():
    run = _run()
    run.marks = [m for m in run.marks if m["event"] != "verified"]
    assert "verify" not in {label for label, _, _ in spans(run)}


def test_the_api_boot_is_its_container_start_to_lab_s_first_full_answer():
    assert round(per_service(_run())["api"]["ready"] - per_service(_run())["api"]["start"], 2) == 1.4
    bench = Bench.__new__(Bench)
    bench.runs = {"lab": [_run()], "lab-flags": [_run(200.0)], "lab-verify": []}
    row = bench._api_boot()
    assert [round(v, 2) for v in row.lab.values] == [1.4, 1.4] and not row.target.met(row.lab.median)
    bench.runs = {"lab": [], "lab-flags": [], "lab-verify": []}
    assert bench._api_boot().skip
