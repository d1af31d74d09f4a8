"""Declared vs live, on a HostConfig shaped as the engine returns it."""

import pytest

from lab.drift import differences

DECLARED = {
    "restart": "unless-stopped",
    "cap_add": ["CHOWN", "SETUID"],
    "cap_drop": ["ALL"],
    "mem_limit": "268435456",
    "cpus": 1,
    "pids_limit": 32,
    "read_only": True,
}
LIVE = {
    "RestartPolicy": {"Name": "unless-stopped"},
    "CapAdd": ["CAP_CHOWN", "CAP_SETUID"],
    "CapDrop": ["ALL"],
    "Memory": 268435456,
    "NanoCpus": 1_000_000_000,
    "PidsLimit": 32,
    "ReadonlyRootfs": True,
}


def test_a_container_as_declared_has_no_differences():
    assert differences(DECLARED, LIVE) == []


@pytest.mark.parametrize(
    "change, said",
    [
        ({"RestartPolicy": {"Name": "no"}}, "restart policy no (declared unless-stopped)"),
        ({"Memory": 0}, "memory limit 0 (declared 268435456)"),
        ({"PidsLimit": -1}, "pids limit 0 (declared 32)"),
        ({"NanoCpus": 2_000_000_000}, "CPU limit 2000000000 (declared 1000000000)"),
        ({"ReadonlyRootfs": False}, "read-only root False (declared True)"),
        (
            {"CapAdd": ["CHOWN", "SETUID", "SYS_ADMIN"]},
            "capabilities CHOWN, SETUID, SYS_ADMIN (declared CHOWN, SETUID)",
        ),
        ({"Privileged": True}, "privileged True (declared False)"),
    ],
)
def test_each_change_behind_labs_back_is_named(change, said):
    assert differences(DECLARED, {**LIVE, **change}) == [said]


def test_the_same_capabilities_written_podmans_way_are_no_drift():
    # Podman 4.3's compatible API, read off a real container of this stack: each default dropped by name
    podman = {
        "CapAdd": [],
        "CapDrop": ["AUDIT_WRITE", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE"]
        + ["NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT", "SETGID"],
    }
    assert differences(DECLARED, {**LIVE, **podman}) == []
    kept_more = {**podman, "CapDrop": podman["CapDrop"][1:]}  # AUDIT_WRITE kept
    assert differences(DECLARED, {**LIVE, **kept_more}) == [
        "capabilities AUDIT_WRITE, CHOWN, SETUID (declared CHOWN, SETUID)"
    ]


def test_the_kernel_s_bounding_set_outweighs_an_engine_s_lists():
    """Podman 5 lists drops against its own smaller default set (no AUDIT_WRITE, MKNOD, NET_RAW): read
    against Docker's, a `cap_drop: [ALL]` container looked as if it kept those three (seen on 5.8.6)."""
    import os

    from lab import caps

    declared = {"cap_drop": ["ALL"], "cap_add": ["CHOWN"]}
    dropped = "DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT"
    podman5 = {"CapAdd": [], "CapDrop": [f"CAP_{c}" for c in dropped.split()]}
    assert differences(declared, podman5) != []  # the lists alone mislead
    assert differences(declared, podman5, caps.from_mask(0x1)) == []  # CapBnd 0x1: CHOWN only
    assert caps.from_mask(0x20000000 | 0x2000 | 0x8000000) == {"AUDIT_WRITE", "NET_RAW", "MKNOD"}
    assert caps.of_process(os.getpid()) is not None and caps.of_process(0) is None
