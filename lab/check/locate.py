"""Effective config -> the file and line the user wrote.

`compose config` has no line numbers: each finding's anchor (`services.web.ports` and the item under
it) is looked up in the source files' YAML node trees (PyYAML's compose step keeps marks and accepts
Compose's `!reset`/`!override` tags), the last file that sets it first — as Compose merges them —
then the files they `include` or `extends`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab.check import guard
from lab.rules import ports as p
from lab.rules.LAB010_dangerous_capability import normal as normal_cap


@dataclass(frozen=True)
class Place:
    file: Path
    line: int


def _get(node: Any, key: str) -> Any:
    """A mapping's value by key, `<<` merge keys followed (anchors and aliases are the same node)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    merged = []
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
        if isinstance(k, yaml.ScalarNode) and k.value == "<<":
            merged += v.value if isinstance(v, yaml.SequenceNode) else [v]
    for m in merged:
        found = _get(m, key)
        if found is not None:
            return found
    return None


def _key_node(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
    return None


def plain(node: Any) -> Any:
    """A node as plain data (strings for scalars), enough to compare with the effective config."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [plain(n) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {k.value: plain(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return None


def _in_range(written: str | None, value: Any) -> bool | None:
    """Does "8000-8002" (or "8080") cover `value`? None when it cannot tell (a variable)."""
    if written is None or value in (None, ""):
        return None
    if "$" in written:
        return None
    try:
        lo, _, hi = written.partition("-")
        return int(lo) <= int(value) <= int(hi or lo)
    except ValueError:
        return None


def port_score(raw: Any, port: dict[str, Any]) -> int:
    """How well a written port entry matches an effective one; 0: it is not that one."""
    parts = p.raw_parts(raw)
    if not parts:
        return 0
    host, published, target, proto = parts
    if proto.lower() != str(port.get("protocol", "tcp")).lower():
        return 0
    # A literal host (or none) must be this port's: an override's loopback entry is not the wildcard it kept.
    literal = host is None or "$" not in host
    if literal and (host or "") != (port.get("host_ip") or ""):
        return 0
    score = 1
    for written, value in ((target, port.get("target")), (published, port.get("published"))):
        hit = _in_range(written, value)
        if hit is False:
            return 0
        score += 2 if hit else 0
    return score


class Sources:
    """The project's files as node trees, searched last-first."""

    def __init__(self, files: list[Path], directory: Path) -> None:
        self.directory = directory
        self.trees: list[tuple[Path, Any]] = []
        seen: set[Path] = set()
        for f in files:
            self._add(f, seen)

    def _add(self, path: Path, seen: set[Path]) -> None:
        path = path.resolve()
        if path in seen or not path.is_file():
            return
        seen.add(path)
        tree = guard.compose(path)  # bounded: an alias bomb is refused here, before Compose runs
        if tree is None:
            return
        self.trees.append((path, tree))
        for ref in self._references(tree):
            self._add(path.parent / ref, seen)

    @staticmethod
    def _references(tree: Any) -> list[str]:
        """Files named by `include:` and by services' `extends: {file: …}`."""
        out = []
        include = _get(tree, "include")
        for entry in include.value if isinstance(include, yaml.SequenceNode) else []:
            value = plain(entry)
            paths = value.get("path") if isinstance(value, dict) else value
            out += paths if isinstance(paths, list) else [paths] if isinstance(paths, str) else []
        services = _get(tree, "services")
        for _k, svc in services.value if isinstance(services, yaml.MappingNode) else []:
            ext = plain(_get(svc, "extends"))
            if isinstance(ext, dict) and isinstance(ext.get("file"), str):
                out.append(ext["file"])
        return [o for o in out if "$" not in o]

    def _order(self) -> list[tuple[Path, Any]]:
        """The -f files last-first (the last one wins a merge), then what they include or extend."""
        return list(reversed(self.trees))

    def raw_port(self, service: str, port: dict[str, Any]) -> Any:
        found = self.port_node(service, port)
        return plain(found[1]) if found else None

    def _services(self, service: str) -> list[tuple[Path, Any]]:
        """(file, node) of a service in merge order, then what it `extends` (same file or another)."""
        out: list[tuple[Path, Any]] = []
        todo = [(path, _get(_get(tree, "services"), service)) for path, tree in self._order()]
        while todo:
            path, node = todo.pop(0)
            if node is None or any(node is n for _p, n in out):
                continue
            out.append((path, node))
            ext = plain(_get(node, "extends"))
            base, name = (path, ext) if isinstance(ext, str) else (path, None)
            if isinstance(ext, dict):
                name = ext.get("service")
                if isinstance(ext.get("file"), str):
                    base = (path.parent / ext["file"]).resolve()
            tree = next((t for p_, t in self.trees if p_ == base), None)
            if name and tree is not None:
                todo.append((base, _get(_get(tree, "services"), name)))
        return out

    def port_node(self, service: str, port: dict[str, Any]) -> tuple[Path, Any] | None:
        best, best_score = None, 0
        for path, svc in self._services(service):
            seq = _get(svc, "ports")
            for node in seq.value if isinstance(seq, yaml.SequenceNode) else []:
                score = port_score(plain(node), port)
                if score > best_score:
                    best, best_score = (path, node), score
            if best:
                return best
        return None

    def place(self, anchor: tuple[str, ...], item: Any = None) -> Place | None:
        """Where the user wrote it: the item under the anchor, else the anchor, else its parent."""
        if anchor[:1] == ("services",) and len(anchor) == 3 and anchor[2] == "ports" and isinstance(item, dict):
            found = self.port_node(anchor[1], item)
            if found:
                return Place(found[0], found[1].start_mark.line + 1)
        for depth in range(len(anchor), 0, -1):
            starts = (
                [(path, svc, anchor[2:depth]) for path, svc in self._services(anchor[1])]
                if anchor[:1] == ("services",) and depth >= 2
                else [(path, tree, anchor[:depth]) for path, tree in self._order()]
            )
            for path, start, rest in starts:
                node, key = start, None
                for part in rest:
                    key = _key_node(node, part) if node is not None else None
                    node = _get(node, part)
                if node is None:
                    continue
                key = key if rest else None
                if depth == len(anchor) and item is not None:
                    hit = self._item(node, item, environment=anchor[-1] == "environment")
                    if hit is not None:
                        return Place(path, hit.start_mark.line + 1)
                return Place(path, (key or node).start_mark.line + 1)
        return Place(self.trees[0][0], 1) if self.trees else None

    def _item(self, node: Any, item: Any, environment: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):  # networks: {lan: …}
            return _key_node(node, str(item))
        if not isinstance(node, yaml.SequenceNode):
            return None
        for entry in node.value:
            value = plain(entry)
            if environment and isinstance(value, str) and value.partition("=")[0].strip() == str(item):
                return entry  # `- KEY=value`, or `- KEY` taken from the shell: the variable's own line
            if isinstance(item, str) and item.startswith("/"):  # a bind source, made absolute by compose
                source = value.get("source") if isinstance(value, dict) else str(value).split(":", 1)[0]
                if isinstance(source, str) and self._same_path(source, item):
                    return entry
            elif isinstance(value, str) and (value == str(item) or normal_cap(value) == normal_cap(item)):
                return entry
        return None

    def _same_path(self, written: str, absolute: str) -> bool:
        path = os.path.expanduser(written)
        if not os.path.isabs(path):
            path = os.path.join(self.directory, path)
        return os.path.normpath(path) == os.path.normpath(absolute)
