"""verify's hardening check on Lockdown records as the engine reports them."""


def test_an_engine_without_cgroups_skips_the_limits_and_still_judges_the_rest():
    from lab.inventory import Lockdown
    from lab.verify.hardening import check

    c = Lockdown("p-redis-1", "redis", 999, 0, ("ALL",), (), True, True, False, 0, 0, 0, True, "unless-stopped")
    got = {(x.target, x.status) for x in check([c], known=True, cgroups=False)}
    assert got == {("p-redis-1 limits", "skip"), ("p-redis-1", "pass")}
    assert {(x.target, x.status) for x in check([c], known=True, cgroups=True)} == {("p-redis-1", "fail")}
