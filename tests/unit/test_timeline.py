"""LAB_TIMINGS: a word that means "on" writes to lab's cache folder, a path writes there, off writes nothing."""

import json

import pytest

from lab import timeline


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_on_means_the_cache_folder_not_a_file_named_after_the_word(value, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_TIMINGS", value)
    timeline.mark("audit", service="api")
    assert not (tmp_path / value).exists()
    [row] = timeline.read(tmp_path / "cache" / "timings.jsonl")
    assert row["event"] == "audit" and row["service"] == "api"


@pytest.mark.parametrize("value", ["", "0", "false", "off"])
def test_off_writes_nothing(value, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_TIMINGS", value)
    timeline.mark("audit")
    assert list(tmp_path.iterdir()) == []


def test_a_path_is_that_file(tmp_path, monkeypatch):
    target = tmp_path / "marks.jsonl"
    monkeypatch.setenv("LAB_TIMINGS", str(target))
    timeline.mark("up")
    assert [json.loads(line)["event"] for line in target.read_text().splitlines()] == ["up"]
