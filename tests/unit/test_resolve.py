"""A project resolved once: "started by lab" has one meaning, whoever asks; its promised endpoints follow the
engine when this user holds no record of it (root verifying a rootless user's stack)."""

from __future__ import annotations

from lab.composefile import MAIN, ROOT
from lab.inventory import Binding, Container
from lab.project import Project
from lab.resolve import Resolved, Unknown


def resolved(tmp_path, files: list[str], bindings=(), containers=()) -> Resolved:
    r = Resolved(Project("p", state_root=tmp_path))
    # What the engine would say, set as if read: no engine is asked.
    r.__dict__.update(labelled=(files, None), bindings=list(bindings), containers=list(containers))
    return r


def test_started_by_lab_means_lab_files_whoever_asks_and_without_credentials(tmp_path):
    r = resolved(tmp_path, [str(ROOT / MAIN)])
    assert r.project.credentials() is None  # this user holds none (another user started it)
    assert r.by_lab is True and r.credentials is None
    assert resolved(tmp_path, [str(tmp_path / "compose.yaml")]).by_lab is False


def test_lab_stack_started_by_another_user_is_promised_at_the_ports_the_engine_shows(tmp_path):
    c = Container("p-redis-1", "redis", ("172.20.0.3",), ((6379, "tcp"),))
    r = resolved(tmp_path, [str(ROOT / MAIN)], [Binding("p-redis-1", "127.0.0.1", 41234, 6379, "tcp")], [c])
    assert r.promised.ports["redis"] == 41234
    assert r.project.ports["redis"] != 41234  # this user's defaults stay as they are
    assert any(e.service == "redis" and e.port == 41234 for e in r.endpoints)


def test_another_projects_files_no_longer_at_hand_are_a_reason_not_a_config(tmp_path):
    r = resolved(tmp_path, [str(tmp_path / "gone" / "compose.yaml")])
    assert r.config() == Unknown("compose files", f"not on this host any more: {tmp_path}/gone/compose.yaml", True)
    assert resolved(tmp_path, []).by_lab is True  # no files known: lab's, as `down` always took it
