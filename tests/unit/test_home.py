"""Where the reference stack's files live: the checkout, or stack.d/ in the state folder for a wheel."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import lab
from lab import home
from lab.errors import LabError

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_is_its_own_root():
    assert home.in_checkout()
    assert home.reference_root() == REPO


@pytest.fixture
def as_a_wheel(tmp_path, monkeypatch):
    """The layout of an installed wheel: no services/ beside the package, its copy inside it."""
    bundled = tmp_path / "site-packages" / "lab" / "_services"
    (bundled / "echo").mkdir(parents=True)
    (bundled / "echo" / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.setattr(home, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.setattr(home, "BUNDLED", bundled)
    monkeypatch.setenv("LAB_STATE_HOME", str(tmp_path / "state"))
    return bundled


def test_a_wheel_writes_into_the_state_folder_and_links_its_services(as_a_wheel, tmp_path):
    root = home.reference_root()
    assert root == tmp_path / "state" / "stack.d"
    assert (root / "services").resolve() == as_a_wheel
    assert (root / "services" / "echo" / "Dockerfile").read_text() == "FROM scratch\n"
    assert sorted(p.name for p in as_a_wheel.parent.parent.rglob("*")) == ["Dockerfile", "_services", "echo", "lab"]


def test_another_install_moves_the_link(as_a_wheel, tmp_path, monkeypatch):
    home.reference_root()
    other = tmp_path / "venv2" / "lab" / "_services"
    (other / "echo").mkdir(parents=True)
    (other / "echo" / "Dockerfile").write_text("FROM other\n")
    monkeypatch.setattr(home, "BUNDLED", other)
    assert (home.reference_root() / "services").resolve() == other


def test_a_folder_of_the_users_in_the_links_place_is_left_alone(as_a_wheel, tmp_path):
    (tmp_path / "state" / "stack.d" / "services").mkdir(parents=True)
    with pytest.raises(LabError, match="is not lab's link"):
        home.reference_root()


def test_an_install_without_the_services_says_so(as_a_wheel):
    (as_a_wheel / "echo" / "Dockerfile").unlink()
    with pytest.raises(LabError, match="build contexts are not in this install"):
        home.reference_root()


def test_version_names_the_distribution():
    out = subprocess.run([sys.executable, "-m", "lab", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"lab {lab.__version__} (loopback-lab)"
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"] == lab.DISTRIBUTION


def test_the_actions_light_install_asks_for_what_pyproject_says():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    light = [
        line
        for line in (REPO / ".github" / "action" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert light and set(light) <= set(meta["dependencies"])
    [compose] = meta["optional-dependencies"]["compose"]
    assert f'"{compose}"' in (REPO / ".github" / "action" / "install").read_text()
