"""verify's lockdown check on Lockdown records as the engine reports them."""

from lab.verify.checks import Status


def test_an_engine_without_cgroups_skips_the_limits_and_still_judges_the_rest():
    from lab.inventory import Lockdown
    from lab.verify.lockdown import check

    c = Lockdown("p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 0, 0, 0, True, "unless-stopped")
    got = {(x.target, x.status) for x in check([c], known=True, cgroups=False)}
    assert got == {("p-redis-1 limits", Status.SKIP), ("p-redis-1", Status.PASS)}
    assert {(x.target, x.status) for x in check([c], known=True, cgroups=True)} == {("p-redis-1", Status.FAIL)}


def test_capabilities_are_judged_by_the_set_kept_however_the_engine_lists_them():
    from lab import caps
    from lab.inventory import Lockdown
    from lab.verify.lockdown import problems

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
    from lab.verify.lockdown import check

    c = Lockdown("p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 2**28, 10**9, 32, True, "always")
    got = {x.target: (x.status, x.detail) for x in check([c], known=True, cgroups=False)}
    said = "engine without cgroups: declared mem 256 MiB, cpus 1, pids 32, not enforced"
    assert got["p-redis-1 limits"] == (Status.SKIP, said)
    assert got["p-redis-1"][0] == Status.PASS and "mem" not in got["p-redis-1"][1]


def _read_only(writable, mounts=()):
    from lab.inventory import Lockdown

    return Lockdown(
        "p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 2**28, 10**9, 32, True, "always",
        writable, mounts,
    )  # fmt: skip


def test_writable_mounts_the_engine_added_beside_a_read_only_root_are_a_warning_naming_them():
    """Podman's Docker API adds /run, /tmp and /var/tmp to any read-only container and lists them among the
    container's tmpfs mounts, so the project's own compose config says which were declared."""
    from lab.verify.lockdown import check, declared

    redis = {
        "tmpfs": ["/run/redis:size=64k,mode=0700", "/tmp:size=1m"],
        "volumes": [{"type": "volume", "source": "data", "target": "/data"}],
    }
    config = {"services": {"redis": redis}}
    seen = ("/data", "/run", "/run/redis", "/tmp", "/var/tmp")
    podman = _read_only(seen, seen)
    got = {x.target: (x.status, x.detail) for x in check([podman], True, True, declared(config))}
    assert got["p-redis-1 read-only"] == (
        Status.WARN,
        "root read-only, but writable mounts its compose files do not declare: /run, /var/tmp"
        " (the engine's, or an image's VOLUME) [5.13]",
    )
    assert got["p-redis-1"][0] == Status.PASS
    docker = _read_only(("/data", "/run/redis", "/tmp"), ("/data", "/run/redis", "/tmp"))
    assert [x.status for x in check([docker], True, True, declared(config))] == [Status.PASS]
    # without the config, the engine's own list stands in: a mount it does not list is still named
    got = check([_read_only(("/data", "/scratch"), ("/data",))], False, True, None)
    assert [(x.target, x.status) for x in got] == [("p-redis-1 read-only", Status.WARN), ("p-redis-1", Status.PASS)]


def test_a_root_configured_read_only_that_the_kernel_shows_writable_fails():
    from lab.verify.lockdown import check

    got = check([_read_only(("/",))], True, True, None)
    assert [(x.status, x.detail) for x in got] == [
        (Status.FAIL, "root filesystem writable although configured read-only [5.13]")
    ]
