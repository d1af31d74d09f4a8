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


def test_no_image_copies_its_whole_build_context():
    """A builder may add files of its own to the context it sends: Podman's remote build puts each build
    secret there (seen here: `COPY . /opt/api/` baked the host CA bundle into lab/api on Podman 4.3)."""
    for dockerfile in sorted((ROOT / "services").glob("*/Dockerfile")):
        for line in re.findall(r"^(?:COPY|ADD)\s.*$", dockerfile.read_text(), re.M):
            sources = [w for w in line.split()[1:-1] if not w.startswith("--")]
            assert not {".", "./", "*"} & set(sources), f"{dockerfile.parent.name}: {line}"
