import pytest

from lab.bench.stats import Row, Series, Target, rotate


def test_rounds_rotate_the_order_so_drift_lands_on_every_variant():
    calls = []
    samples = rotate(
        [lambda: calls.append("a") or 1.0, lambda: calls.append("b") or 2.0, lambda: calls.append("c") or 3.0], 3
    )
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert samples == [[1.0] * 3, [2.0] * 3, [3.0] * 3]


def test_ratio_and_verdict_against_a_ratio_target():
    row = Row("warm", Series([2.0, 3.0, 1.0], "s"), "compose", Series([4.0, 4.0, 4.0], "s"), Target("ratio", "<=", 0.8))
    assert row.ratio == pytest.approx(0.5) and row.verdict() == "met"
    row.lab = Series([3.6, 3.5, 3.4], "s")
    assert row.verdict() == "NOT MET"


def test_throughput_is_better_when_higher():
    row = Row("tp", Series([90.0], "MB/s"), "socat", Series([100.0], "MB/s"), Target("ratio", ">=", 0.9))
    assert row.verdict() == "met"
    row.lab = Series([89.0], "MB/s")
    assert row.verdict() == "NOT MET"


def test_a_value_target_bounds_lab_itself():
    row = Row("images", Series([281.0], "MB"), target=Target("value", "<=", 280, "MB"))
    assert row.ratio is None and row.verdict() == "NOT MET"


def test_a_skipped_row_says_skip_never_met():
    row = Row("cold", target=Target("value", "<=", 90, "s"), skip="run with --cold")
    assert row.verdict() == "skip" and row.met is None
    assert row.as_dict()["verdict"] == "skip"


def test_series_text_shows_median_and_spread():
    assert Series([0.5, 0.7, 0.6], "s").text() == "0.60 s [0.50 s–0.70 s]"
    assert Series([12000.0], "req/s").text() == "12,000 req/s"
