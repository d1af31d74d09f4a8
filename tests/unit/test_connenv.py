import json
import os
import subprocess

from lab import connenv
from lab import project as projects
from lab.credentials import Credentials

CREDS = Credentials("r-pw", "p-pw")


def settings(tmp_path):
    p = projects.Project("t", tmp_path)
    p.ports.update(redis=16379, postgres=15432, api=15000, echo=15432 + 1)
    return connenv.settings(p, CREDS)


def test_keys_and_urls_exactly(tmp_path):
    assert settings(tmp_path) == {
        "REDIS_URL": "redis://default:r-pw@127.0.0.1:16379/0",
        "DATABASE_URL": "postgresql://lab:p-pw@127.0.0.1:15432/lab",
        "API_URL": "http://127.0.0.1:15000",
        "ECHO_TCP": "127.0.0.1:15433",
        "ECHO_UDP": "127.0.0.1:15433",
    }


def test_shell_format_evaluates_in_a_real_shell(tmp_path):
    values = settings(tmp_path) | {"API_URL": "it's $HOME"}
    script = connenv.render(values, "shell") + '\nprintf %s "$API_URL"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"HOME": os.environ["HOME"]})
    assert out.stdout == "it's $HOME"


def test_dotenv_and_json(tmp_path):
    values = settings(tmp_path)
    assert connenv.render(values, "dotenv").splitlines()[0] == "REDIS_URL=redis://default:r-pw@127.0.0.1:16379/0"
    assert json.loads(connenv.render(values, "json")) == values
