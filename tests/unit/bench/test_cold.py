from lab.bench.cold import summary


def test_a_cold_start_is_split_into_its_phases():
    marks = [
        {"t": 11.0, "event": "audit"},
        {"t": 11.2, "event": "bootstrap"},
        {"t": 40.0, "event": "build", "service": "echo"},
        {"t": 40.1, "event": "build", "service": "api"},
        {"t": 60.0, "event": "built", "service": "echo"},
        {"t": 66.0, "event": "built", "service": "api"},
        {"t": 67.0, "event": "create"},
        {"t": 70.0, "event": "up"},
    ]
    note, detail = summary(marks, 71.0)
    assert detail["phases_s"] == {
        "setup (venv, pip, Compose)": 11.0,
        "base bootstrap": 28.8,
        "image builds, in parallel": 26.0,
        "start until every service answers": 3.0,
    }
    assert "slowest build: api" in note
