"""The progress view follows lab's timeline marks: a few plain lines per phase, build output to the log."""

from lab import progress, timeline


def test_plain_mode_says_each_phase_once_and_keeps_build_output_in_the_log(tmp_path, capsys):
    log = tmp_path / "build.log"
    with progress.view("plain", log) as view:
        assert progress.current() is view  # the builds find it here
        timeline.mark("build", service="api")
        view.build_line("api", "#5 [api 2/7] RUN apt-get install -y python3\n")
        view.build_line("api", "#6 [api 3/7] COPY app /opt/api\n")
        view.build_line("api", "#6 CACHED\n")
        timeline.mark("built", service="api")
        timeline.mark("start")
        timeline.mark("wait")
        timeline.mark("ready", service="redis")
        timeline.mark("ready", service="redis")  # a second endpoint of the same service
        timeline.mark("up")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "lab: build api …"
    assert err[1].startswith("lab: build api: done in ") and err[1].endswith("(1 of 2 steps cached)")
    assert any(line.endswith("(answering: redis)") for line in err)
    assert err[-1] == f"lab: build log: {log}"
    assert "RUN apt-get install" in log.read_text() and "apt-get" not in "\n".join(err)
    assert progress.current() is None


def test_quiet_mode_says_nothing_and_marks_stop_reaching_a_closed_view(tmp_path, capsys):
    with progress.view("quiet", None):
        timeline.mark("build", service="api")
        timeline.mark("built", service="api")
    timeline.mark("build", service="echo")  # after the view: no listener left
    assert capsys.readouterr().err == ""
