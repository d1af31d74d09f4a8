"""verify's hardening check on Lockdown records as the engine reports them."""


def test_an_engine_without_cgroups_skips_the_limits_and_still_judges_the_rest():
    from lab.inventory import Lockdown
    from lab.verify.hardening import check

    c = Lockdown("p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 0, 0, 0, True, "unless-stopped")
    got = {(x.target, x.status) for x in check([c], known=True, cgroups=False)}
    assert got == {("p-redis-1 limits", "skip"), ("p-redis-1", "pass")}
    assert {(x.target, x.status) for x in check([c], known=True, cgroups=True)} == {("p-redis-1", "fail")}


def test_capabilities_are_judged_by_the_set_kept_however_the_engine_lists_them():
    from lab import caps
    from lab.inventory import Lockdown
    from lab.verify.hardening import problems

    def lock(add, drop):
        return Lockdown("p-x-1", "x", 999, 0, drop, add, True, True, False, 1, 1, 32, True, "unless-stopped")

    podman_way = tuple(sorted(caps.DEFAULT - {"CHOWN"}))  # Podman: each default dropped by name
    assert problems(lock((), podman_way), {"CHOWN"}) == []
    assert problems(lock(("CHOWN",), ("ALL",)), {"CHOWN"}) == []  # Docker's way, the same set
    assert problems(lock((), ()), set()) == ["capabilities not dropped (cap_drop: ALL) [5.4]"]
    assert problems(lock(("SYS_ADMIN",), ("ALL",)), set()) == ["capabilities kept: SYS_ADMIN [5.4]"]
    assert problems(lock((), podman_way[1:]), {"CHOWN"}) == [
        f"capabilities kept beyond the catalogue's: {podman_way[0]} [5.4]"
    ]


def test_declared_limits_on_an_engine_without_cgroups_are_a_skip_never_a_pass():
    """A rootless engine on cgroup v1 keeps the numbers and enforces none (seen: 200 MiB used under 32 MB)."""
    from lab.inventory import Lockdown
    from lab.verify.hardening import check

    c = Lockdown("p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 2**28, 10**9, 32, True, "always")
    got = {x.target: (x.status, x.detail) for x in check([c], known=True, cgroups=False)}
    said = "engine without cgroups: declared mem 256 MiB, cpus 1, pids 32, not enforced"
    assert got["p-redis-1 limits"] == ("skip", said)
    assert got["p-redis-1"][0] == "pass" and "mem" not in got["p-redis-1"][1]
