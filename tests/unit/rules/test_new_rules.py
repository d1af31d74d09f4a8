"""LAB016–LAB028 (compose-lint's catalogue beyond exposure) on effective configs shaped as
`docker compose config --format json` prints them: each flags its positive case, not its negative."""

import pytest

from lab.rules import HIGH, LOW, MEDIUM, audit

HARDENED = {
    "image": "redis:7.2@sha256:" + "0" * 64,
    "security_opt": ["no-new-privileges:true"],
    "cap_drop": ["ALL"],
    "read_only": True,
    "mem_limit": "268435456",
    "cpus": 1.0,
}


def fired(rule, **svc):
    """The findings of one rule on a hardened service changed by `svc` (None removes a key)."""
    service = {k: v for k, v in {**HARDENED, **svc}.items() if v is not None}
    return [f for f in audit({"services": {"app": service}}, "p") if f.rule == rule and not f.safe]


def test_the_hardened_service_has_no_finding():
    assert [f.rule for f in audit({"services": {"app": HARDENED}}, "p") if not f.safe] == []


CASES = [
    # rule, severity, positive change, negative change
    ("LAB016", LOW, {"security_opt": None}, {"security_opt": ["no-new-privileges"]}),
    ("LAB016", LOW, {"security_opt": ["no-new-privileges:true", "no-new-privileges:false"]}, {}),
    ("LAB017", MEDIUM, {"image": "redis"}, {"image": "redis:7.2"}),
    ("LAB017", MEDIUM, {"image": "ghcr.io/x/app:latest"}, {"image": "localhost:5000/app:1.0"}),
    ("LAB017", MEDIUM, {"image": "localhost:5000/app"}, {"image": "app:latest", "build": {"context": "."}}),
    ("LAB018", LOW, {"cap_drop": ["NET_RAW"]}, {"cap_drop": ["cap_all"]}),
    ("LAB019", LOW, {"read_only": False}, {"read_only": True}),
    ("LAB020", LOW, {"logging": {"driver": "none"}}, {"logging": {"driver": "json-file"}}),
    ("LAB021", HIGH, {"devices": [{"source": "/dev/sda", "target": "/dev/sda", "permissions": "rwm"}]}, {}),
    ("LAB021", HIGH, {"devices": ["/dev/nvme0n1"]}, {"devices": [{"source": "/dev/dri", "target": "/dev/dri"}]}),
    ("LAB021", HIGH, {"device_cgroup_rules": ["b 8:* rmw"], "cap_drop": None}, {"device_cgroup_rules": ["b 8:* rw"]}),
    ("LAB021", HIGH, {"devices": ["//dev/./sdb:/dev/sdb"]}, {"devices": ["/dev/sda:/dev/sda:m"]}),
    (
        "LAB022",
        LOW,
        {"volumes": [{"type": "bind", "source": "/mnt", "target": "/mnt", "bind": {"propagation": "rshared"}}]},
        {"volumes": [{"type": "bind", "source": "/mnt", "target": "/mnt", "bind": {"propagation": "rslave"}}]},
    ),
    ("LAB023", MEDIUM, {"user": "root"}, {"user": "1000:0"}),
    ("LAB023", MEDIUM, {"user": "000:1000"}, {"user": "10"}),
    ("LAB024", LOW, {"image": "redis:7.2"}, {"image": "redis:7.2", "build": {"context": "."}}),
    ("LAB025", MEDIUM, {"environment": {"POSTGRES_PASSWORD": "hunter2"}}, {"environment": {"POSTGRES_PASSWORD": ""}}),
    ("LAB025", MEDIUM, {"environment": {"AWS_SECRET_ACCESS_KEY": "x"}}, {"environment": {"DB_PASSWORD_FILE": "/x"}}),
    ("LAB025", MEDIUM, {"environment": {"SENTRY_DSN": "x"}}, {"environment": {"MYSQL_RANDOM_ROOT_PASSWORD": "yes"}}),
    ("LAB025", MEDIUM, {"environment": {"API_TOKEN": 12345678}}, {"environment": {"TOKEN_TTL_MINUTES": "30"}}),
    ("LAB025", MEDIUM, {"command": ["redis-server", "--requirepass", "x"]}, {"command": ["redis-server"]}),
    ("LAB025", MEDIUM, {"command": ["sh", "-c", "PGPASSWORD=pw psql"]}, {"command": ["sh", "-c", "psql $$PW"]}),
    ("LAB025", MEDIUM, {"entrypoint": ["mysqladmin", "-psecret", "ping"]}, {"entrypoint": ["app", "-p", "80"]}),
    (
        "LAB025",
        MEDIUM,
        {"healthcheck": {"test": ["CMD-SHELL", "redis-cli -a x --password=x ping"]}},
        {"healthcheck": {"test": ["CMD", "app", "--password-file", "/run/secrets/pw"]}},
    ),
    (
        "LAB026",
        MEDIUM,
        {"environment": {"DATABASE_URL": "postgres://app:hunter2@db:5432/app"}},
        {"environment": {"DATABASE_URL": "postgres://app@db:5432/app"}},
    ),
    ("LAB026", MEDIUM, {"environment": {"CACHE": "redis://:pw@redis:6379/0"}}, {"environment": {"U": "http://a/b@c"}}),
    ("LAB027", LOW, {"tmpfs": ["/tmp:exec,size=16m"]}, {"tmpfs": ["/tmp:noexec,nosuid"]}),
    ("LAB027", LOW, {"tmpfs": "/run:suid"}, {"tmpfs": ["/run"]}),
    ("LAB028", LOW, {"mem_limit": None}, {"mem_limit": None, "deploy": {"resources": {"limits": {"memory": "1g"}}}}),
    ("LAB028", LOW, {"cpus": 0}, {"cpus": None, "cpu_quota": 50000}),
]


@pytest.mark.parametrize("rule, severity, positive, negative", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_flags_its_positive_case_and_not_its_negative(rule, severity, positive, negative):
    found = fired(rule, **positive)
    assert [f.severity for f in found] == [severity], found
    assert found[0].anchor[:2] == ("services", "app")
    assert fired(rule, **negative) == []


def test_a_credential_is_never_printed():
    found = fired("LAB025", environment={"DB_PASSWORD": "hunter2"}, command=["--requirepass", "hunter2"])
    found += fired("LAB026", environment={"URL": "mysql://u:hunter2@db/x"})
    assert len(found) == 3
    assert not any("hunter2" in f.line() for f in found)
