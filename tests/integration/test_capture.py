"""`lab capture` sees the stack's conversations and names them by service."""

from __future__ import annotations

import threading

import pytest
import requests

from lab import capture

pytestmark = pytest.mark.integration


def test_a_health_request_shows_host_to_api_and_api_to_each_dependency(lab_stack, tmp_path):
    if capture.os.geteuid() != 0:
        pytest.skip("skipped: capturing needs root")
    p = lab_stack.project
    result = {}

    listening = threading.Event()

    def capture_now():
        result["flows"] = capture.run(p, [], 2.5, tmp_path / "c.pcap", tmp_path, ready=listening.set)

    worker = threading.Thread(target=capture_now)
    worker.start()
    assert listening.wait(timeout=60), "tcpdump never started listening"
    s = requests.Session()
    s.trust_env = False
    assert s.get(f"http://127.0.0.1:{p.ports['api']}/health", timeout=5).status_code == 200
    worker.join(timeout=30)
    seen = {(f.source, f.target) for f in result["flows"]}
    assert {("host", "api"), ("api", "redis"), ("api", "postgres"), ("api", "echo")} <= seen
    assert (tmp_path / "c.pcap").stat().st_size > 24


def test_without_root_capture_says_so_in_one_line(lab_stack, monkeypatch, capsys):
    from lab import cli

    monkeypatch.setattr(capture.os, "geteuid", lambda: 1000)
    code = cli.main(["capture", "--project", lab_stack.project.name, "--seconds", "1"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and "lab: error: capturing packets needs root (CAP_NET_RAW)" in err
