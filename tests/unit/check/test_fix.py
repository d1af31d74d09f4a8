"""`lab fix` never destroys a file it did not write (issue 31, defect B): a user's own override is
refused unless --force; --in-place refuses what it cannot safely replace. One line, exit 2, nothing
changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.unit.check.conftest import lab

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
MINE = "# my own loopback settings\nservices:\n  web:\n    environment: {MODE: local}\n"


def refused(out: subprocess.CompletedProcess, said: str) -> None:
    assert out.returncode == 2, out.stderr
    error, hint = out.stderr.splitlines()
    assert error.startswith("lab: error: ") and said in error
    assert hint.startswith("lab: hint: ")


def test_a_users_own_override_is_not_replaced(project):
    root = project({"compose.yaml": EXPOSED, "compose.loopback.yaml": MINE})
    for args in (["--write"], []):  # the diff would replace it too: said before anything is shown
        out = lab("fix", *args, cwd=root)
        refused(out, f"{root / 'compose.loopback.yaml'} exists and `lab fix` did not write it: not replaced")
        assert "--output FILE, or pass --force" in out.stderr and out.stdout == ""
    assert (root / "compose.loopback.yaml").read_text() == MINE


def test_force_replaces_it_and_labs_own_override_is_rewritten(project):
    root = project({"compose.yaml": EXPOSED, "compose.loopback.yaml": MINE})
    assert lab("fix", "--write", "--force", cwd=root).returncode == 0
    written = (root / "compose.loopback.yaml").read_text()
    assert written.startswith("# Written by `lab fix`") and "127.0.0.1" in written
    # The control: an override lab wrote is lab's to write again, without --force.
    (root / "compose.yaml").write_text(EXPOSED.replace("8080:80", "8081:80"))
    assert lab("fix", "--write", cwd=root).returncode == 0
    assert '"8081"' in (root / "compose.loopback.yaml").read_text()


def test_in_place_on_a_link_out_of_the_project_is_refused(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("shared") / "compose.yaml"
    elsewhere.write_text(EXPOSED)
    root = project({})
    (root / "compose.yaml").symlink_to(elsewhere)
    out = lab("fix", "--in-place", "--write", cwd=root)
    refused(out, f"is {elsewhere}, outside the project ({root}): not edited")
    assert (root / "compose.yaml").is_symlink() and elsewhere.read_text() == EXPOSED


def test_in_place_on_a_link_inside_the_project_edits_its_target(project):
    root = project({"base/compose.yaml": EXPOSED})
    (root / "compose.yaml").symlink_to(root / "base" / "compose.yaml")
    assert lab("fix", "--in-place", "--write", cwd=root).returncode == 0
    assert (root / "compose.yaml").is_symlink() and "127.0.0.1:8080:80" in (root / "base/compose.yaml").read_text()


def test_in_place_on_a_read_only_file_is_refused_even_for_root(project):
    root = project({"compose.yaml": EXPOSED})
    (root / "compose.yaml").chmod(0o444)
    refused(lab("fix", "--in-place", "--write", cwd=root), "compose.yaml is read-only or a mount point (mode 0444)")
    assert (root / "compose.yaml").read_text() == EXPOSED


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="skipped: needs root and unshare")
def test_in_place_on_a_read_only_mount_is_refused(project):
    root = project({"compose.yaml": EXPOSED})
    path = root / "compose.yaml"
    mount = f"mount --bind {path} {path} && mount -o remount,ro,bind {path}"
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'{mount} && exec "$0" -m lab fix --in-place --write', sys.executable],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")},
    )
    if "mount:" in out.stderr or "unshare:" in out.stderr:
        pytest.skip(f"skipped: cannot make a read-only mount here ({out.stderr.strip()})")
    refused(out, "compose.yaml is read-only or a mount point")
    assert path.read_text() == EXPOSED


def test_what_lab_fix_leaves_alone_is_listed_by_severity_and_the_lows_counted(project):
    """A high or medium finding lab fix does not repair is named with its place and fix; the lows (one per
    service and rule) are counted per rule in one line, not listed one by one."""
    services = "".join(f"  web{i}:\n    image: nginx:1.27\n    ports: ['808{i}:80']\n" for i in range(3))
    root = project({"compose.yaml": "services:\n" + services + "  root:\n    image: busybox:1.36\n    user: root\n"})
    out = lab("fix", cwd=root)
    assert out.returncode == 0, out.stderr
    said = out.stderr.splitlines()
    assert [ln for ln in said if ln.startswith("lab fix: left alone (compose.yaml:") and " medium LAB023 " in ln]
    assert not [ln for ln in said if " low LAB0" in ln]
    [lows] = [ln for ln in said if ln.startswith("lab fix: left alone: ")]
    assert "LAB018 ×4" in lows and "LAB028 ×4" in lows and lows.endswith("`lab check` lists each")
