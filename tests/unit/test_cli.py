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


def test_lab_check_never_loads_the_docker_sdk(tmp_path):
    """`lab check` is a pre-commit hook: the docker SDK and its requests/urllib3 (~0.15 s) stay unloaded
    (once, lab env's parser options pulled them in through lab.project)."""
    import subprocess
    import sys

    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n")
    code = (
        "import runpy, sys\nsys.argv = ['lab', 'check']\ntry:\n    runpy.run_module('lab', run_name='__main__')\n"
        "except SystemExit as exc:\n    print('exit', exc.code)\n"
        "print('loaded', sorted({'docker', 'requests'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "exit 1" in out.stdout, out.stdout + out.stderr  # the positive control: it ran, and found the port
    assert "loaded []" in out.stdout
