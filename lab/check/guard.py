"""A user's YAML, read with bounds before Compose sees it.

A file of nine anchors, each a list of nine aliases of the one before ("billion laughs"), is a few
hundred bytes that expand to 9^9 nodes: Compose's `config` ran past 30 s on it and grew to 11 GB
(issue 31). Composing the node graph is cheap (an alias is the same node object, not a copy), so the
size the document *would* have is counted here, each shared node once, and a file past the bound is
refused before any process is started. Compose's own run is bounded too (lab.check.load).

The bound: 50 000 nodes once aliases are expanded. Sentry's self-hosted compose file (57 services,
anchors merged into most) is a few thousand. Measured with Compose 2.40 on a loaded 2-core machine:
30 000-node files took 2-3 s, a nested alias file of 66 000 nodes took 27 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.errors import ProjectNotLoaded

MAX_NODES = 50_000
MAX_BYTES = 2 * 1024 * 1024  # a compose file is kilobytes; past this it is not one a person wrote
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: the same nodes, marks, tags


class TooLarge(ProjectNotLoaded):
    """A file that would expand past the bound (an alias bomb), or is too big to be a compose file."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"{path}: {what}; refused before Compose reads it",
            hint="write the repeated parts out (or use fewer nested aliases), or split the file",
        )


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def expanded_size(root: Any, limit: int = MAX_NODES) -> int | None:
    """The node count with every alias expanded, or None once it passes `limit` (or an alias refers to
    a node that contains it, which would expand forever). Each shared node is counted once."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    todo: list[tuple[Any, bool]] = [(root, False)]
    while todo:
        node, done = todo.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > limit:
                return None
            continue
        if key in sizes:
            continue
        if key in on_path:
            return None
        on_path.add(key)
        todo.append((node, True))
        todo.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes.get(id(root), 0)


def compose(path: Path) -> Any:
    """The file's node tree (marks and Compose's `!override`/`!reset` tags kept); None for a file that
    is not YAML (Compose says why, in its own words). Raises TooLarge past the bounds."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise TooLarge(path, f"over {MAX_BYTES // (1024 * 1024)} MiB")
        text = path.read_text(errors="replace")
    except OSError:
        return None
    try:
        tree = yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError):
        return None
    if tree is not None and expanded_size(tree) is None:
        raise TooLarge(path, f"its aliases expand past {MAX_NODES} nodes (an alias bomb?)")
    return tree
