import pytest

from lab import cli


@pytest.mark.parametrize(
    "value, message",
    [
        ("redis", "expected SERVICE=PORT"),
        ("nosuch=1234", "unknown service 'nosuch'"),
        ("redis=abc", "'abc' is not a number"),
    ],
)
def test_bad_port_flags_are_one_line_errors(value, message, capsys):
    assert cli.main(["up", "--port", value, "--project", "unit-never-started"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 2  # the error and its hint


def test_bad_project_name(capsys):
    assert cli.main(["status", "--project", "Bad Name"]) == 2
    assert "invalid project name 'Bad Name'" in capsys.readouterr().err


def test_generate_check_passes_on_the_committed_file():
    assert cli.main(["generate", "--check"]) == 0
