"""An alias bomb is refused before Compose sees it: one line, exit 2, within a bound (issue 31)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from lab.check import guard
from tests.unit.check.conftest import lab


def bomb(depth: int, width: int = 9) -> str:
    """ "Billion laughs": `depth` anchors, each a list of `width` aliases of the one before."""
    lines = ['x-a0: &a0 ["lol"]']
    lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\nservices:\n  web:\n    image: nginx\n"


def size(text: str) -> int | None:
    return guard.expanded_size(yaml.compose(text))


def test_aliases_count_at_their_expanded_size():
    assert size("a: [1, 2]") == 5  # mapping, key, list, two items
    assert size("a: &x [1, 2]\nb: *x\nc: *x") == 1 + (1 + 3) * 3
    assert size("base: &b {image: x}\nweb:\n  <<: *b\n  ports: []") == 1 + 2 + 3 + (1 + 1 + 3 + 2)


def test_a_node_that_contains_its_own_alias_is_unbounded():
    assert size("a: &a [1, *a]") is None


def test_the_limit_is_counted_not_expanded():
    assert guard.expanded_size(yaml.compose(bomb(9))) is None  # 9^9 leaves: answered at once
    lists = [2]  # x-a0: a list and its item; each next one: a list of 9 copies of the one before
    for _ in range(4):
        lists.append(1 + 9 * lists[-1])
    root_and_keys, services = 1 + 6, 5
    assert size(bomb(4)) == root_and_keys + sum(lists) + services == 15696  # under the bound


def test_the_billion_laughs_is_one_line_exit_2_within_a_bound(project):
    root = project({"compose.yaml": bomb(9)})
    try:
        out = lab("check", cwd=root, timeout=20)  # before the fix: Compose ran past 30 s
    except subprocess.TimeoutExpired:
        pytest.fail("lab check did not answer the alias bomb within 20 s")
    assert out.returncode == 2
    [line, hint] = out.stderr.splitlines()
    assert line.endswith(
        "compose.yaml: its aliases expand past 50000 nodes (an alias bomb?); refused before Compose reads it"
    )
    assert hint.startswith("lab: hint: ")


@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_bomb_in_an_included_file_is_refused_too(project, command):
    root = project({"compose.yaml": "include: [more.yaml]\nservices:\n  a:\n    image: x\n", "more.yaml": bomb(6)})
    out = lab(command, cwd=root, timeout=20)
    assert out.returncode == 2 and "more.yaml: its aliases expand past" in out.stderr


def test_anchors_as_people_write_them_pass(project):
    """The control: 57 services sharing defaults through merge keys (sentry's shape) are checked."""
    defaults = "x-defaults: &defaults\n  restart: unless-stopped\n  environment: &env\n" + "".join(
        f"    K{i}: v{i}\n" for i in range(20)
    )
    services = "".join(f"  s{i}:\n    <<: *defaults\n    image: img{i}\n    environment: *env\n" for i in range(57))
    root = project({"compose.yaml": defaults + "services:\n" + services})
    out = lab("check", cwd=root)
    assert out.returncode == 0, out.stderr
