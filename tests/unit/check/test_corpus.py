"""A corpus in the styles people write, each with the findings and lines expected, then fixed (override
and in place) and proven through Compose's own `config`: nothing off loopback, no published port lost."""

from __future__ import annotations

import json

import pytest

from tests.unit.check.conftest import lab

# name: ({file: text}, [args], {(rule, service, file, line), ...} of the high and medium findings)
CORPUS = {
    "short syntax, the sample-stack way": (
        {
            "compose.yaml": """services:
  web:
    image: nginx
    ports:
      - "8080:80"        # UI
      - 443:443
  db:
    image: postgres
    ports: ["5432:5432"]
""",
        },
        [],
        {
            ("LAB001", "web", "compose.yaml", 5),
            ("LAB001", "web", "compose.yaml", 6),
            ("LAB001", "db", "compose.yaml", 9),
            ("LAB014", None, "compose.yaml", 1),
        },
    ),
    "long syntax, IPv6 literals, a range, a random port, udp": (
        {
            "compose.yaml": """services:
  app:
    image: app
    ports:
      - target: 80
        published: "8080"
      - target: 81
        published: "8081"
        host_ip: "::"
      - target: 82
        published: "8082"
        host_ip: "::1"
      - "127.0.0.1:9000-9001:9000-9001"
      - "7000-7001:7000-7001/udp"
      - "6000"
      - "[::1]:6001:6001"
networks:
  default:
    driver_opts:
      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"
""",
        },
        [],
        {
            ("LAB001", "app", "compose.yaml", 5),
            ("LAB001", "app", "compose.yaml", 7),
            ("LAB001", "app", "compose.yaml", 14),
            ("LAB001", "app", "compose.yaml", 15),
        },
    ),
    "host IP and port from variables, .env": (
        {
            "compose.yaml": """services:
  web:
    image: nginx
    ports:
      - "${BIND:-0.0.0.0}:${WEB_PORT:-8080}:80"
      - "${LOCAL:-127.0.0.1}:9090:90"
      - target: 91
        published: "9091"
        host_ip: ${HOST_IP}
""",
            ".env": "HOST_IP=192.168.1.20\n",
        },
        [],
        {
            ("LAB001", "web", "compose.yaml", 5),
            ("LAB003", "web", "compose.yaml", 5),
            ("LAB003", "web", "compose.yaml", 6),
            ("LAB002", "web", "compose.yaml", 7),
            ("LAB003", "web", "compose.yaml", 7),
            ("LAB014", None, "compose.yaml", 1),
        },
    ),
    "the override trap: a loopback override adds, the wildcard stays": (
        {
            "compose.yaml": 'services:\n  redis:\n    image: redis\n    ports: ["6379:6379"]\n',
            "compose.override.yaml": 'services:\n  redis:\n    ports: ["127.0.0.1:6379:6379"]\n',
        },
        [],
        {("LAB001", "redis", "compose.yaml", 4), ("LAB014", None, "compose.yaml", 1)},
    ),
    "several -f, the later one wins the line": (
        {
            "base.yml": "services:\n  api:\n    image: api\n    ports: ['127.0.0.1:5000:5000']\n",
            "dev.yml": "services:\n  api:\n    privileged: true\n    ports: !override\n      - 5000:5000\n",
        },
        ["-f", "base.yml", "-f", "dev.yml"],
        {
            ("LAB001", "api", "dev.yml", 5),
            ("LAB006", "api", "dev.yml", 3),
            ("LAB014", None, "base.yml", 1),
        },
    ),
    "profiles: every one checked unless one is named": (
        {
            "docker-compose.yml": """version: "3.8"
services:
  app:
    image: app
    ports: ["127.0.0.1:3000:3000"]
  adminer:
    image: adminer
    profiles: [debug]
    ports: ["8081:8080"]
networks:
  default:
    driver_opts: {com.docker.network.bridge.host_binding_ipv4: 127.0.0.1}
""",
        },
        [],
        {("LAB001", "adminer", "docker-compose.yml", 9)},
    ),
    "extends and include: the line in the file that wrote it": (
        {
            "compose.yaml": """include:
  - db/compose.yaml
services:
  web:
    extends:
      file: common.yaml
      service: base
    image: web
""",
            "common.yaml": 'services:\n  base:\n    image: x\n    ports: ["80:80"]\n    cap_add: [SYS_ADMIN]\n',
            "db/compose.yaml": 'services:\n  db:\n    image: pg\n    ports: ["5432:5432"]\n',
        },
        [],
        {
            ("LAB001", "web", "common.yaml", 4),
            ("LAB010", "web", "common.yaml", 5),
            ("LAB001", "db", "db/compose.yaml", 4),
            ("LAB014", None, "compose.yaml", 1),
        },
    ),
    "host escapes": (
        {
            "compose.yaml": """x-common: &common
  image: tool
  network_mode: host
services:
  agent:
    <<: *common
    pid: host
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - /:/rootfs:ro
      - /proc:/host/proc:ro
      - ./data:/data
      - /etc/localtime:/etc/localtime:ro
    cap_add: [NET_ADMIN, SYS_PTRACE]
    security_opt: ["seccomp:unconfined"]
  vpn:
    image: vpn
    networks: [lan]
networks:
  lan:
    driver: macvlan
""",
        },
        [],
        {
            ("LAB004", "agent", "compose.yaml", 3),
            ("LAB007", "agent", "compose.yaml", 7),
            ("LAB008", "agent", "compose.yaml", 9),
            ("LAB008", "agent", "compose.yaml", 10),  # / holds the socket
            ("LAB009", "agent", "compose.yaml", 10),
            ("LAB009", "agent", "compose.yaml", 11),
            ("LAB010", "agent", "compose.yaml", 14),
            ("LAB010", "agent", "compose.yaml", 14),
            ("LAB011", "agent", "compose.yaml", 15),
            ("LAB012", "vpn", "compose.yaml", 18),
        },
    ),
}


# The hardening and supply-chain rules fire on nearly every service of this corpus (no cap_drop, no
# limits, untagged images); the cases here are about ports and host escapes, and those rules' lines are
# tested in tests/unit/rules/test_new_rules.py.
HARDENING = {f"LAB{n:03d}" for n in range(16, 29)} - {"LAB021"}


def findings(cwd, args):
    out = lab("check", *args, "--format", "json", cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


@pytest.mark.parametrize("case", list(CORPUS))
def test_each_finding_is_named_with_its_file_and_line(project, case):
    files, args, expected = CORPUS[case]
    root = project(files)
    code, doc = findings(root, args)
    got = {(f["rule"], f["service"], f["file"], f["line"]) for f in doc["findings"] if f["rule"] not in HARDENING}
    assert got == expected
    assert code == (1 if any(f["severity"] == "high" for f in doc["findings"]) else 0)


@pytest.mark.parametrize("case", [c for c in CORPUS if c != "host escapes"])
@pytest.mark.parametrize("mode", ["override", "in-place"])
def test_the_fix_leaves_nothing_off_loopback_and_loses_no_port(project, case, mode):
    files, args, _ = CORPUS[case]
    root = project(files)
    before = published(root, args)
    fixed = lab("fix", *args, "--write", *(["--in-place"] if mode == "in-place" else []), cwd=root)
    assert fixed.returncode == 0, fixed.stderr
    after_args = [*args] if mode == "in-place" or not args else [*args, "-f", "compose.loopback.yaml"]
    if mode == "override" and not args:  # discovered files plus the override, as the hint says
        after_args = [
            x for f in json.loads(lab("check", "--format", "json", cwd=root).stdout)["files"] for x in ("-f", f)
        ]
        after_args += ["-f", "compose.loopback.yaml"]
    _, after = findings(root, after_args)
    exposed = [f for f in after["findings"] if f["rule"] in ("LAB001", "LAB002", "LAB014")]
    assert exposed == []
    # No published port lost: (service, target, protocol, host port) before == after, per Compose.
    assert before == published(root, after_args)
    assert "use it: docker compose" in fixed.stderr or mode == "in-place"


def published(root, args):
    from lab.check.load import load

    files = [root / a for a in args[1::2]] if args else None
    config = load(files, root).config
    return {
        (name, p["target"], p.get("protocol", "tcp"), p.get("published") or "")
        for name, svc in config["services"].items()
        for p in svc.get("ports") or []
    }


def test_in_place_keeps_comments_and_writes_both_loopbacks(project):
    root = project({"compose.yaml": 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"   # the UI\n'})
    assert lab("fix", "--in-place", "--write", cwd=root).returncode == 0
    text = (root / "compose.yaml").read_text()
    assert "# the UI" in text and '"127.0.0.1:8080:80"' in text
    assert lab("check", cwd=root).returncode == 0


def test_fix_without_write_prints_the_diff_writes_nothing_and_check_fails_until_fixed(project):
    root = project({"compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'})
    out = lab("fix", cwd=root)
    assert out.returncode == 0 and "+++ compose.loopback.yaml" in out.stdout and "!override" in out.stdout
    assert sorted(p.name for p in root.iterdir()) == ["compose.yaml"]
    assert lab("check", cwd=root).returncode == 1


# compose-lint's rules that overlap lab's: wildcard ports, host network, privileged, host namespaces,
# the engine's socket, sensitive host paths, capabilities, confinement off.
YARDSTICK = {"CL-0005", "CL-0008", "CL-0002", "CL-0010", "CL-0001", "CL-0013", "CL-0025", "CL-0024", "CL-0011"}
YARDSTICK |= {"CL-0009", "CL-0027"}


@pytest.mark.parametrize("case", [c for c, (_f, args, _e) in CORPUS.items() if not args])
def test_every_service_compose_lint_flags_lab_flags_too(project, case):
    """The best static linter as a yardstick: wherever its overlapping rules flag a service, so does lab."""
    from compose_lint.engine import run_rules
    from compose_lint.parser import load_compose

    files, args, _ = CORPUS[case]
    root = project(files)
    main = next(root / n for n in ("compose.yaml", "docker-compose.yml") if (root / n).is_file())
    data, lines = load_compose(str(main))
    theirs = {f.service for f in run_rules(data, lines) if f.rule_id in YARDSTICK}
    _, doc = findings(root, args)
    ours = {f["service"] for f in doc["findings"] if f["severity"] in ("high", "medium")}
    assert theirs  # the yardstick saw something: a comparison with nothing proves nothing
    assert theirs <= ours, f"compose-lint flags {sorted(theirs - ours)}, lab does not"


def test_the_fix_is_proven_with_the_same_env_file(project):
    """A host port that only an `--env-file` sets: the proof loads the project with that file too."""
    root = project(
        {
            "compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["${WEB_PORT}:80"]\n',
            "dev.env": "WEB_PORT=8088\n",
        }
    )
    out = lab("fix", "--env-file", "dev.env", "--write", cwd=root)
    assert out.returncode == 0, out.stderr
    after = lab("check", "--env-file", "dev.env", "-f", "compose.yaml", "-f", "compose.loopback.yaml", cwd=root)
    assert after.returncode == 0, after.stdout
