"""`lab fix`: the least change that makes a project's published ports loopback-only.

Two ways, both judged by the same rules on the effective config Compose will then run:
- an override file (default `compose.loopback.yaml`): each service with a port off loopback gets its
  whole list again under Compose's `!override` tag, every port on 127.0.0.1 (and ::1 where this host
  has IPv6 loopback) with the same host port, target and protocol. Without the tag Compose *adds* the
  override's entries to the file's and the wildcard binding stays (checked with Compose 2.40).
  Each project bridge gets `host_binding_ipv4: 127.0.0.1`; a gateway mode that ignores the host IP of a
  mapping (`routed`, `nat-unprotected`: LAB015) is taken out with Compose's `!reset`, back to the default.
- `--in-place`: the user's own files edited with ruamel.yaml's round trip, comments and layout kept.

The one place that writes a user's file is `write` (atomic: a temporary file renamed over the old).
What cannot be fixed without changing what the service is (host network, a socket, privileged, …)
is listed and left alone.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import addr, hostnet, rules
from lab.check import Located, locate, relative
from lab.check import load as loader
from lab.errors import FixRefused
from lab.rules import LAB014_bridge_binds_everywhere as lab014
from lab.rules import LAB015_gateway_mode as lab015
from lab.rules import ports as p
from lab.rules.LAB014_bridge_binds_everywhere import OPTION

OVERRIDE_NAME = "compose.loopback.yaml"
MIN_COMPOSE = (2, 24, 0)  # `!override` and `!reset`
HEADER = (
    "# Written by `lab fix`: every published port on loopback only.\n"
    "# `!override` replaces the list in the files before this one (Compose would otherwise add to it).\n"
)


@dataclass
class Plan:
    loaded: loader.Loaded
    texts: dict[Path, str]  # path -> its new text
    before: dict[Path, str]  # path -> its text now ("" for a new file)
    ports: int
    networks: list[str]
    left: list[Located]
    in_place: bool
    ipv6: bool
    diff: str = field(default="")
    fixing: set[str] = field(default_factory=set)  # fingerprints of the findings the plan repairs
    gateways: list[tuple[str, str]] = field(default_factory=list)  # (network, gateway-mode option) removed

    def summary(self, written: bool) -> list[str]:
        base = Path.cwd()
        hosts = "127.0.0.1 and ::1" if self.ipv6 else "127.0.0.1"
        out = []
        if not self.texts:
            out.append("nothing to fix: every published port is on loopback already")
        else:
            parts = [f"{self.ports} port(s) onto {hosts}"] if self.ports else []
            if self.networks:
                parts.append(f"host_binding_ipv4 on {', '.join(self.networks)}")
            if self.gateways:
                parts.append(f"gateway mode back to the default on {', '.join(sorted({n for n, _ in self.gateways}))}")
            what = ", ".join(parts)
            verb = "wrote" if written else "would write (run with --write)"
            out.append(f"{verb} {', '.join(relative(t, base) for t in self.texts)}: {what}")
            if not self.in_place:
                override = next(iter(self.texts))
                names = [relative(f, self.loaded.directory) for f in self.loaded.files] + [
                    relative(override, self.loaded.directory)
                ]
                env = "".join(f"--env-file {relative(e, self.loaded.directory)} " for e in self.loaded.env_files)
                out.append(
                    f"use it: docker compose {env}{' '.join('-f ' + n for n in names)} up -d  "
                    f"(or COMPOSE_FILE={os.pathsep.join(names)} in .env)"
                )
        # What lab fix does not repair, each high or medium one with its place and fix; the lows (hardening
        # that matters after a compromise: one per service and rule, 288 lines on a 57-service project) as a
        # count per rule, with where to read them
        lows: dict[str, int] = {}
        for item in self.left:
            f = item.finding
            if f.severity == rules.LOW:
                lows[f.rule] = lows.get(f.rule, 0) + 1
                continue
            where = f" ({relative(item.place.file, base)}:{item.place.line})" if item.place else ""
            out.append(f"left alone{where}: {f.severity} {f.rule} {f.line()}: {f.fix}")
        if lows:
            counted = ", ".join(f"{rule} ×{n}" for rule, n in sorted(lows.items()))
            out.append(f"left alone: {sum(lows.values())} low finding(s) ({counted}): `lab check` lists each")
        return out


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(".")[:3])
    except ValueError:
        return (0,)


def written_by_lab(path: Path) -> bool:
    """Is this the override `lab fix` wrote? Its first line says so (`HEADER`); delete that line to keep
    a file you edited from being replaced."""
    try:
        with path.open(errors="replace") as fh:
            return fh.readline() == HEADER.splitlines(keepends=True)[0]
    except OSError:
        return False


def _may_replace(target: Path, force: bool) -> None:
    """Never destroy a file lab did not write (issue 31: a user's own compose.loopback.yaml was replaced
    without a word)."""
    if target.exists() and not force and not written_by_lab(target):
        raise FixRefused(
            f"{target} exists and `lab fix` did not write it: not replaced",
            "name another file with --output FILE, or pass --force to replace it",
        )


def plan(loaded: loader.Loaded, in_place: bool = False, output: Path | None = None, force: bool = False) -> Plan:
    from lab import check

    if loaded.sources is None:
        loaded.sources = locate.Sources(loaded.files, loaded.directory)
    judged, sources = check.judge(loaded), loaded.sources
    found = [i for i in judged if i.counts]
    ipv6 = hostnet.has_ipv6_loopback()
    # What the rule set marks fixable (`Rule.fixable`) is repaired by what its findings point at: a
    # published port is put on loopback, a network gets loopback as its default host binding.
    fixable = [i.finding for i in found if i.finding.rule in rules.FIXABLE]
    left = [i for i in found if i.finding.rule not in rules.FIXABLE]
    bad_ports = {(f.service, json.dumps(f.port, sort_keys=True)) for f in fixable if f.port is not None}
    networks = sorted({f.anchor[1] for f in fixable if f.rule == lab014.RULE.id})
    gateways = sorted({(f.anchor[1], f.anchor[3]) for f in fixable if f.rule == lab015.RULE.id})
    if in_place:
        texts, count = _in_place(loaded, sources, bad_ports, networks, ipv6, gateways)
    else:
        if _version(loaded.compose_version) < MIN_COMPOSE:
            raise FixRefused(
                f"Compose {loaded.compose_version} is too old for `!override` (needs 2.24 or later)",
                "update Compose (`make setup` installs a current one), or use `lab fix --in-place`",
            )
        target = (output or loaded.files[0].parent / OVERRIDE_NAME).resolve()
        _may_replace(target, force)
        if target in loaded.files:
            loaded = _without(loaded, target)  # a second run regenerates the override from the user's files
            return plan(loaded, in_place, output, force)
        text, count = _override(loaded, sources, bad_ports, networks, ipv6, _kept_comments(judged), gateways)
        texts = {target: text} if text else {}
    before = {path: path.read_text() if path.is_file() else "" for path in texts}
    result = Plan(
        loaded,
        texts,
        before,
        count,
        networks,
        left,
        in_place,
        ipv6,
        fixing={f.fingerprint for f in fixable},
        gateways=gateways,
    )
    result.diff = "".join(
        line
        for path in texts
        for line in difflib.unified_diff(
            before[path].splitlines(keepends=True),
            texts[path].splitlines(keepends=True),
            fromfile=relative(path, Path.cwd()) if before[path] else "/dev/null",
            tofile=relative(path, Path.cwd()),
        )
    )
    if texts and not in_place:
        prove(result)
    if in_place:
        for path in texts:
            _replaceable(path, loaded.directory)
    return result


def prove(result: Plan) -> None:
    """Run the files with the override through Compose's own `config` and the rules again: nothing
    off loopback, no published port lost. A plan that fails this is a bug, and is never written."""
    from lab import check

    [(path, text)] = result.texts.items()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="lab-fix-") as tmp:
        tmp.write(text)
        tmp.flush()
        files = [*result.loaded.files, Path(tmp.name)]
        after = loader.load(files, result.loaded.directory, result.loaded.profiles or None, result.loaded.env_files)
        # Judged while the override is still on disk: the rules that read the source text (a host IP from a
        # variable) must find its entries, not fall back to the user's.
        # Only what the plan set out to repair: a port the user suppressed stays as it was, and its
        # comment is not beside the override's copy of it.
        still = [i.finding.line() for i in check.judge(after) if i.finding.fingerprint in result.fixing]
    if still:
        raise FixRefused(f"the override would still leave {still[0]}", "report this as a bug of `lab fix`")

    def published(config: dict) -> set[tuple[str, str, str, str]]:
        return {
            (n, str(q.get("target")), str(q.get("published") or ""), q.get("protocol", "tcp"))
            for n, s in (config.get("services") or {}).items()
            for q in s.get("ports") or []
        }

    lost = published(result.loaded.config) - published(after.config)
    if lost:
        raise FixRefused(
            f"the override would lose a published port: {sorted(lost)[0]}", "report this as a bug of `lab fix`"
        )


def _without(loaded: loader.Loaded, override: Path) -> loader.Loaded:
    files = [f for f in loaded.files if f != override]
    return loader.load(files, loaded.directory, loaded.profiles or None, loaded.env_files)


# -- the override ------------------------------------------------------------------------------
def _loopback(port: dict[str, Any], host: str, raw: Any) -> dict[str, Any]:
    out = {k: v for k, v in port.items() if k not in ("host_ip",) and not (k == "mode" and v == "ingress")}
    parts = p.raw_parts(raw)
    if parts and parts[1] and "$" in parts[1] and parts[2] == str(port.get("target")):
        out["published"] = parts[1]  # keep the user's variable: `${WEB_PORT:-8080}`
    out["host_ip"] = host
    return out


def _fixed_ports(
    name: str, svc: dict[str, Any], sources: locate.Sources, bad: set[tuple[str, str]], ipv6: bool
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for port in svc.get("ports") or []:
        if (name, json.dumps(p.summary(port), sort_keys=True)) not in bad:
            out.append(port)
            continue
        raw = sources.raw_port(name, port)
        out += [
            _loopback(port, h, raw) for h in ((addr.LOOPBACK_V4, addr.LOOPBACK_V6) if ipv6 else (addr.LOOPBACK_V4,))
        ]
    unique: list[dict[str, Any]] = []
    for port in out:
        if port not in unique:
            unique.append(port)
    return unique


def _key(name: str) -> str:
    """A mapping key as people write it: plain where YAML allows, quoted otherwise."""
    ambiguous = name.lower() in ("true", "false", "yes", "no", "on", "off", "null") or re.fullmatch(r"[0-9._-]+", name)
    return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) and not ambiguous else json.dumps(name)


def _flow(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in mapping.items()) + "}"


def _kept_comments(judged: list[Located]) -> dict[tuple[str, str], str]:
    """A port the user suppressed on its line stays as it is — and the override's copy of it (the last
    file, where `lab check` then finds it) carries the same `# lab: ignore[…]`, so it stays suppressed."""
    rules_for: dict[tuple[str, str], dict[str, str]] = {}
    for item in judged:
        s, f = item.suppressed, item.finding
        if s and s.kind == "inSource" and f.port is not None:
            rules_for.setdefault((f.service, json.dumps(f.port, sort_keys=True)), {})[f.rule] = s.justification
    return {
        key: f"  # lab: ignore[{', '.join(sorted(found))}] {'; '.join(dict.fromkeys(found.values()))}"
        for key, found in rules_for.items()
    }


def _override(
    loaded: loader.Loaded,
    sources: locate.Sources,
    bad: set[tuple[str, str]],
    networks: list[str],
    ipv6: bool,
    kept: dict[tuple[str, str], str] | None = None,
    gateways: Sequence[tuple[str, str]] = (),
) -> tuple[str, int]:
    lines, count = [HEADER.rstrip("\n")], 0
    services = {name for name, _ in bad}
    if services:
        lines.append("services:")
    for name in sorted(services):
        svc = loaded.config["services"][name]
        fixed = _fixed_ports(name, svc, sources, bad, ipv6)
        count += sum(1 for port in svc.get("ports") or [] if (name, json.dumps(p.summary(port), sort_keys=True)) in bad)
        lines += [f"  {_key(name)}:", "    ports: !override"]
        lines += [
            f"      - {_flow(port)}{(kept or {}).get((name, json.dumps(p.summary(port), sort_keys=True)), '')}"
            for port in fixed
        ]
    if networks or gateways:
        lines.append("networks:")
        for key in sorted({*networks, *(n for n, _ in gateways)}):
            lines += [f"  {_key(key)}:", "    driver_opts:"]
            if key in networks:
                lines.append(f"      {OPTION}: {json.dumps(addr.LOOPBACK_V4)}")
            # `!reset` takes the key out of the merged config: the engine's default (nat, which honours
            # the host IP of every mapping) applies again
            lines += [f"      {option}: !reset null" for net, option in gateways if net == key]
    if not services and not networks and not gateways:
        return "", 0
    return "\n".join(lines) + "\n", count


# -- in place ----------------------------------------------------------------------------------
def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round trip: comments, order and quotes kept
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _short(raw: str, host: str) -> str:
    """ "8080:80/udp" -> "127.0.0.1:8080:80/udp"; "${BIND}:81:81" -> "127.0.0.1:81:81"; "9999" -> "127.0.0.1::9999"."""
    text = raw.strip()
    if text.startswith("["):
        text = text[text.index("]") + 2 :]
    parts = p._split(text)
    rest = parts[1:] if len(parts) == 3 else parts if len(parts) == 2 else ["", parts[0]]
    return f"{host if ':' not in host else '[' + host + ']'}:{':'.join(rest)}"


def _in_place(
    loaded: loader.Loaded,
    sources: locate.Sources,
    bad: set[tuple[str, str]],
    networks: list[str],
    ipv6: bool,
    gateways: Sequence[tuple[str, str]] = (),
) -> tuple[dict[Path, str], int]:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    hosts = (addr.LOOPBACK_V4, addr.LOOPBACK_V6) if ipv6 else (addr.LOOPBACK_V4,)
    y = _yaml()
    docs: dict[Path, Any] = {}
    todo: dict[tuple[Path, str], set[int]] = {}  # (file, service) -> indexes as loaded
    for name, key in sorted(bad):
        port = {k: v for k, v in json.loads(key).items() if v is not None}
        found = sources.port_node(name, port)
        if not found:
            raise FixRefused(
                f"service {name}: the port {p.label(port)} is not written where lab can edit it",
                "fix it by hand, or use the override (`lab fix --write` without --in-place)",
            )
        path, node = found
        doc = docs.get(path) or docs.setdefault(path, y.load(path.read_text()))
        # The entry's own service in that file: `name`, or the one it `extends` there.
        where = [
            (owner, i)
            for owner, svc in (doc.get("services") or {}).items()
            for i in range(len((svc or {}).get("ports") or []))
            if _line(svc["ports"], i) == node.start_mark.line
        ] or [  # a tagged list (`!override`) keeps no line marks in ruamel: the same text will do
            (owner, i)
            for owner, svc in (doc.get("services") or {}).items()
            for i, item in enumerate((svc or {}).get("ports") or [])
            if owner == name and _plainish(item) == _plainish(locate.plain(node))
        ]
        if not where:
            raise FixRefused(f"service {name}: cannot find {p.label(port)} in {path}", "fix it by hand")
        todo.setdefault((path, where[0][0]), set()).add(where[0][1])
    count = 0
    for (path, name), indexes in todo.items():
        seq = docs[path]["services"][name]["ports"]
        for index in sorted(indexes, reverse=True):  # from the end: an insert shifts only what follows
            item = seq[index]
            if isinstance(item, str | int):
                new = [DoubleQuotedScalarString(_short(str(item), h)) for h in hosts]
            else:
                new = []
                for h in hosts:
                    entry = copy.deepcopy(item)
                    entry["host_ip"] = h
                    new.append(entry)
            seq[index] = new[0]
            for extra in reversed(new[1:]):
                seq.insert(index + 1, extra)
            count += 1
    if networks:
        first = loaded.files[0].resolve()  # as the sources name it: one document per file, links followed
        doc = docs.get(first) or docs.setdefault(first, y.load(first.read_text()))
        nets = doc.get("networks")
        if nets is None:
            doc["networks"] = nets = {}
        for key in networks:
            if not isinstance(nets.get(key), dict):
                nets[key] = {}
            nets[key].setdefault("driver_opts", {})[OPTION] = addr.LOOPBACK_V4
    for key, option in gateways:  # out of the file that wrote it
        place = sources.place(("networks", key, "driver_opts", option))
        path = place.file if place else None
        doc = None if path is None else docs.get(path) or docs.setdefault(path, y.load(path.read_text()))
        opts = ((((doc or {}).get("networks") or {}).get(key) or {}).get("driver_opts")) if doc else None
        if not isinstance(opts, dict) or option not in opts:
            raise FixRefused(
                f"network {key}: {option} is not written where lab can edit it",
                "remove it by hand, or use the override (`lab fix --write` without --in-place)",
            )
        del opts[option]
        if not opts:
            del doc["networks"][key]["driver_opts"]
    texts = {}
    for path, doc in docs.items():
        out = io.StringIO()
        y.dump(doc, out)
        texts[path] = out.getvalue()
    return texts, count


def _line(seq: Any, index: int) -> int | None:
    try:
        return seq.lc.item(index)[0]
    except (AttributeError, KeyError, TypeError):
        return None


def _plainish(item: Any) -> Any:
    return {str(k): str(v) for k, v in item.items()} if hasattr(item, "items") else str(item)


# -- writing ----------------------------------------------------------------------------------
def _mount_points() -> set[str]:
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return set()
    # field 5 is the mount point, with space, tab, newline and backslash written as octal escapes
    unescape = re.compile(r"\\([0-7]{3})")
    fields = (line.split() for line in lines)
    return {unescape.sub(lambda m: chr(int(m.group(1), 8)), f[4]) for f in fields if len(f) > 4}


def _replaceable(path: Path, project: Path) -> None:
    """A user's file `--in-place` may edit: inside the project (a link out of it points at someone
    else's file), a regular file, writable — for root too, who may write a read-only file — and not a
    mount point (a read-only mount, or a bind mount a rename cannot replace)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(project.resolve()):
        raise FixRefused(
            f"{path} is {resolved}, outside the project ({project}): not edited",
            "edit it by hand, or write an override (`lab fix --write` without --in-place)",
        )
    try:
        mode = resolved.stat().st_mode
    except OSError as exc:
        raise FixRefused(f"cannot read {resolved}: {exc.strerror}", "check the path and its permissions") from None
    if not stat.S_ISREG(mode):
        raise FixRefused(f"{resolved} is not a regular file: not edited", "edit it by hand, or write an override")
    if not mode & 0o222 or not os.access(resolved, os.W_OK) or str(resolved) in _mount_points():
        raise FixRefused(
            f"{resolved} is read-only or a mount point (mode {stat.S_IMODE(mode):04o}): not edited",
            "make it writable, or write an override (`lab fix --write` without --in-place)",
        )


def write(result: Plan) -> None:
    """Write every planned file atomically; check each target can be written before any is."""
    for path in result.texts:
        if result.in_place:
            _replaceable(path, result.loaded.directory)
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise FixRefused(f"cannot write {path}", "give a writable path with --output, or fix its permissions")
    for path, text in result.texts.items():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            if path.exists():
                st = path.stat()
                os.chmod(tmp, st.st_mode & 0o777)
                if os.geteuid() == 0:  # root editing a user's file: it stays theirs
                    os.chown(tmp, st.st_uid, st.st_gid)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
