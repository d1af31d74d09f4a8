"""Facts the images' layout relies on, read from the Dockerfiles themselves."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runs(service: str) -> list[str]:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    return re.findall(r"^RUN (?:.*\\\n)*.*$", text, re.M)


def test_echo_and_api_share_their_python_layer():
    """BuildKit runs the step once and both images share the layer only if the RUN is the same."""
    assert _runs("echo")[0] == _runs("api")[0]
    assert "python3" in _runs("echo")[0]


def test_postgres_never_fetches_the_jit():
    first = _runs("postgres")[0]
    assert "Provides: libllvm14" in first and first.index("dpkg -i") < first.index("apt-get install")
