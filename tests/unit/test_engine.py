import pytest

from lab import engine


@pytest.mark.parametrize(
    "text, parsed, fixed",
    [
        ("20.10.24+dfsg1", (20, 10, 24), False),
        ("27.5.1", (27, 5, 1), False),
        ("28.0.0", (28, 0, 0), True),
        ("28.2.2-1", (28, 2, 2), True),
        ("29.0", (29, 0, 0), True),
    ],
)
def test_versions_and_the_loopback_fix(text, parsed, fixed):
    assert engine.parse_version(text) == parsed
    assert engine.has_loopback_fix(text) is fixed


@pytest.mark.parametrize(
    "info, versions, name, cgroups",
    [
        ({"CgroupDriver": "cgroupfs", "SecurityOptions": ["name=seccomp,profile=default"]}, {}, "docker", True),
        ({"CgroupDriver": "none", "SecurityOptions": ["name=seccomp", "name=rootless"]}, {}, "docker rootless", False),
        ({"CgroupDriver": "systemd"}, {"Components": [{"Name": "Podman Engine"}]}, "podman", True),
        (
            {"CgroupDriver": "cgroupfs", "SecurityOptions": ["name=rootless"]},
            {"Components": [{"Name": "Podman Engine"}]},
            "podman rootless",
            True,
        ),
    ],
)
def test_the_engine_is_known_by_its_own_answers(info, versions, name, cgroups):
    from lab.engine import detect

    found = detect(info, versions)
    assert (found.name, found.cgroups) == (name, cgroups)
    assert found.meaning()
