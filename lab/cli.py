"""Thin CLI: parse arguments, call one function, render its result."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lab.compose_model import PROJECT as DEFAULT_PROJECT
from lab.errors import LabError, NoSuchProject, UsageError
from lab.report import table

if TYPE_CHECKING:
    from lab import project as projects
    from lab import verify

# Each command imports what it uses when it runs: `lab check` (a pre-commit hook) never loads the docker
# SDK and its requests/urllib3 (~0.1 s), nor the probes' clients.


def _port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def _project(args: argparse.Namespace) -> projects.Project:
    from lab import project as projects

    return projects.load(args.project)


def cmd_generate(args: argparse.Namespace) -> int:
    from lab import composefile, home

    root = home.reference_root()  # the checkout, or stack.d/ in the user's state folder (never site-packages)
    shown = (lambda p: p.name) if home.in_checkout() else str
    if args.check:
        drift = composefile.check(root)
        for d in drift:
            print(f"lab: {shown(d.path)} {d.reason}; run `lab generate`", file=sys.stderr)
        return 1 if drift else 0
    written = composefile.write(root)
    print("\n".join(f"wrote {shown(p)}" for p in written) or f"compose files up to date in {root}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from lab import catalogue, runlock
    from lab import project as projects
    from lab.report import say

    if args.file or args.fix or args.project_directory or args.profile or args.env_file:
        return _up_files(args)
    catalogue.preload()
    # One run at a time from here (lab/runlock.py): the state it reads (the port choice) is the state the
    # run before it wrote.
    with runlock.held(projects.check_name(args.project), "up", say=say):
        return _up_lab(_project(args), args)


def _up_lab(project: projects.Project, args: argparse.Namespace) -> int:
    from lab import portplan, progress, stack, timeline
    from lab import project as projects

    portplan.apply(project, args.port or [], args.dynamic_ports)
    for f in (Path(f).resolve() for f in args.override or []):
        if not f.is_file():
            raise UsageError(f"--override {f}: no such file", "give the path of a compose file")
        if f not in project.overrides:
            project.overrides.append(f)
    start = time.monotonic()
    log = projects.cache_home() / "logs" / f"build-{project.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)  # this run's builds only
    proof = _Proof(project, skip=args.no_verify)
    with progress.view(args.progress, log), proof:
        results = stack.up(project, timeout=args.timeout, hardening=not args.no_harden, started=proof.begin)
        took = time.monotonic() - start
        timeline.mark("up")
        report = proof.report()
    rows = stack.status(project, results=results)
    print(
        table(["service", "addresses", "state", "probe"], [(r.service, r.addresses, r.state, r.detail) for r in rows])
    )
    print(
        f'\nproject {project.name} up in {took:.1f} s; `eval "$(lab env'
        f'{"" if project.is_default else " --project " + project.name})"` for connection settings'
    )
    if report is None:
        print("verify: skipped (--no-verify)")
        return 0
    _print_verify(report, failing_only=True)
    return 0 if report.ok else 1


class _Proof:
    """`lab up`'s verify, begun as soon as the containers run (lab/verify: what needs only them runs while
    the services boot). A start that fails abandons it: its probes clean up, their findings are dropped."""

    def __init__(self, project: projects.Project | None, skip: bool) -> None:
        self.project, self.skip, self._run = project, skip, None

    def begin(self, project: projects.Project) -> None:
        from lab import timeline, verify

        self.project = project
        if not self.skip and self._run is None:
            timeline.mark("verify")
            self._run = verify.begin(project)

    def report(self) -> verify.Report | None:
        """None with --no-verify."""
        from lab import timeline

        if self.skip:
            return None
        self.begin(self.project)  # a start that never called back is proven now
        report = self._run.report()
        timeline.mark("verified")
        return report

    def __enter__(self) -> _Proof:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None and self._run is not None:
            self._run.abandon()


def _up_files(args: argparse.Namespace) -> int:
    """`lab up -f FILE…`: a project lab did not write (lab/foreign.py)."""
    from lab import foreign, pipeline

    if args.port or args.dynamic_ports or args.override:
        raise UsageError(
            "--port, --dynamic-ports and --override are for lab's own stack",
            "with -f, the files say the ports; add an override with another -f",
        )
    start = time.monotonic()
    name = None if args.project == DEFAULT_PROJECT else args.project
    target = foreign.AnyProject(args.file, args.project_directory, args.profile, args.env_file, name, args.fix)
    with _Proof(None, skip=args.no_verify) as proof:
        pipeline.up(target, args.timeout, started=proof.begin)
    project = target.project
    print(f"project {project.name} up in {time.monotonic() - start:.1f} s")
    report = proof.report()
    if report is None:
        print("verify: skipped (--no-verify)")
        return 0
    _print_verify(report, failing_only=True)
    return 0 if report.ok else 1


def _print_verify(report: verify.Report, failing_only: bool = False, took: float | None = None) -> None:
    from lab.verify.checks import Status

    counts = {s: sum(c.status == s for c in report.checks) for s in Status}
    shown = [c for c in report.checks if c.status != Status.PASS] if failing_only else report.checks
    if shown:
        print(table(["check", "target", "status", "detail"], [(c.name, c.target, c.status, c.detail) for c in shown]))
    timing = f" in {took:.2f} s" if took is not None else ""
    print(
        f"verify {'OK' if report.ok else 'FAILED'}: {len(report.checks)} checks; "
        f"{counts[Status.PASS]} pass, {counts[Status.FAIL]} fail, "
        + (f"{counts[Status.WARN]} warn, " if counts[Status.WARN] else "")
        + f"{counts[Status.SKIP]} skipped{timing}"
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from lab import catalogue, verify

    catalogue.preload()
    start = time.monotonic()
    report = verify.run(_project(args))
    took = time.monotonic() - start
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_verify(report, took=took)
    return 0 if report.ok else 1


def cmd_harden(args: argparse.Namespace) -> int:
    from lab import harden
    from lab import project as projects

    if args.undo:  # a named project: its own rules; none named: every rule lab added
        removed = harden.remove(args.project and projects.check_name(args.project), loopback=not args.project)
        print("\n".join(f"removed {line}" for line in removed) or "nothing to remove")
        return 0
    name = projects.check_name(args.project or DEFAULT_PROJECT)
    added, removed = harden.sync(name)
    print(
        "\n".join([f"added {rule}" for rule in added] + [f"removed stale {line}" for line in removed])
        or "already hardened"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from lab import stack

    if not stack.down(_project(args), volumes=args.volumes):
        print(
            f"project {args.project} was not started by lab: only lab's rules for it were removed; "
            f"its containers and volumes are yours (`docker compose -p {args.project} down`)"
        )
        return 0
    print(f"project {args.project} down" + (" (volumes and credentials removed)" if args.volumes else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from lab import status
    from lab.resolve import resolve

    rows = status.rows(resolve(_project(args), stopped=True))
    if args.json:
        print(json.dumps({"project": args.project, "services": [r.as_dict() for r in rows]}, indent=2))
    else:
        print(
            table(
                ["service", "addresses", "state", "probe"], [(r.service, r.addresses, r.state, r.detail) for r in rows]
            )
        )
    return 0 if all(r.answers for r in rows) else 1


def cmd_logs(args: argparse.Namespace) -> int:
    from lab import stack
    from lab.catalogue import BY_NAME

    if args.service and args.service not in BY_NAME:
        raise UsageError(f"unknown service {args.service!r}", f"choose one of: {', '.join(BY_NAME)}")
    return stack.logs(_project(args), args.service, follow=args.follow, tail=args.tail)


def cmd_env(args: argparse.Namespace) -> int:
    from lab import connenv

    project = _project(args)
    creds = project.credentials()
    if creds is None:
        raise NoSuchProject(f"project {project.name} has no credentials yet")
    print(connenv.render(connenv.settings(project, creds), args.format))
    return 0


def cmd_ports(args: argparse.Namespace) -> int:
    from lab import addr, ports
    from lab.resolve import resolve
    from lab.verify import neighbour

    r = resolve(_project(args))
    # lab's own: the ports it was started with; someone else's: what the engine bound
    published = set(r.promised.ports.values()) if r.by_lab else {b.host_port for b in r.bindings}
    wanted = [int(p) for p in args.ports] if args.ports else sorted(published)
    held = ports.holders(set(wanted))
    # A loopback binding says nothing of the container behind it: probe its own address too.
    direct = neighbour.direct_exposure(r.name)
    behind = ports.publishers() if any(h.engine_holder for h in held) else {}  # one read for every row
    rows = []
    for port in wanted:
        mine = [h for h in held if h.port == port]
        for h in mine:
            scope = (
                "loopback only"
                if h.is_loopback
                else ("EXPOSED (all interfaces)" if h.is_wildcard else "EXPOSED (not loopback)")
            )
            container = behind.get((h.port, h.protocol)) if h.engine_holder else None
            if h.is_loopback and container and container[0] in direct:
                seen = direct[container[0]]
                scope = (
                    f"EXPOSED (direct routing: {seen})"
                    if seen.state == "open"
                    else f"loopback only; direct routing {seen}"
                )
            family = addr.family_name(h.address)
            rows.append((port, h.protocol, family, h.address, scope, ports.who(h, behind)))
        if not mine:
            rows.append((port, "-", "-", "-", "unused", "-"))
    print(table(["port", "proto", "family", "address", "scope", "holder"], rows))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from lab import doctor

    findings = doctor.run(_project(args))
    print(table(["check", "status", "detail"], [(f.name, f.status, f.detail) for f in findings]))
    for f in findings:
        if f.hint and f.status != doctor.OK:
            print(f"  {f.name}: {f.hint}")
    return 1 if any(f.status == doctor.FAIL for f in findings) else 0


def cmd_capture(args: argparse.Namespace) -> int:
    import tempfile

    from lab import capture, inventory
    from lab.catalogue import BY_NAME

    if not 0 < args.seconds <= 3600:
        raise UsageError(f"--seconds {args.seconds:g}: out of range", "give a number of seconds from 0.1 to 3600")
    project = _project(args)
    known = sorted({c.service for c in inventory.states(project.name)}) or list(BY_NAME)
    for s in args.services:
        if s not in known:
            raise UsageError(f"unknown service {s!r}", f"choose from: {', '.join(known)}")
    print(f"lab: capturing {project.name} for {args.seconds:g} s on loopback and its bridge", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="lab-capture-") as tmp:
        found = capture.run(project, args.services, args.seconds, args.write, Path(tmp))
    print(
        table(
            ["from", "to", "protocol", "packets", "bytes"],
            [(f.source, f.target, f.protocol, f.packets, f.bytes) for f in found],
        )
    )
    if args.write:
        print(f"lab: packets written to {args.write}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from lab import bench, home
    from lab.bench import report

    root = home.reference_root()
    mine = home.in_checkout()  # docs/benchmarks.md is the checkout's; an install only prints
    docs = None if args.quick or args.no_docs or not mine else root / "docs" / "benchmarks.md"
    rows, meta = bench.run(bench.Options(quick=args.quick, cold=args.cold, docs=docs), root)
    print(report.as_json(rows, meta) if args.json else report.text(rows))
    return 0


def _load_project(args: argparse.Namespace):
    from lab.check import load

    return load.load(args.file, args.project_directory, args.profile, args.env_file)


def cmd_check(args: argparse.Namespace) -> int:
    from lab import check, rules
    from lab.check import baseline, explain, formats

    if args.rules:
        print(
            table(
                ["rule", "severity", "fix", "name", "what it flags"],
                [(r.id, r.severity, "lab fix" if r.fixable else "-", r.name, r.summary) for r in rules.RULES],
            )
        )
        return 0
    if args.explain:
        print(explain.page(args.explain), end="")
        return 0
    accepted = baseline.read(args.baseline) if args.baseline else None  # a bad one: said before any work
    loaded = _load_project(args)
    notes = list(loaded.warnings)
    found = check.judge(loaded, args.config, notes)
    if accepted is not None:
        found = baseline.mark(found, accepted, notes)
    if args.write_baseline:
        count = baseline.write(args.write_baseline, found)
        print(
            f"lab check: {count} finding(s) written to {args.write_baseline}; --baseline {args.write_baseline} "
            "fails only on new ones",
            file=sys.stderr,
        )
        return 0
    base = Path.cwd()
    if not loaded.profiles:
        notes.append("every profile checked (--profile P for one)")
    if args.format == "json":
        print(formats.as_json(found, loaded.files, base))
    elif args.format == "sarif":
        print(formats.sarif(found, base))
    elif args.format == "github":
        out = formats.github(found, base)
        if out:
            print(out)
    else:
        print(formats.text(found, loaded.files, base, notes))
    for n in notes if args.format != "text" else []:  # stdout is the document: the notes go beside it
        print(f"lab: {'warning' if n in loaded.warnings else 'note'}: {n}", file=sys.stderr)
    return 1 if any(i.counts and rules.at_least(i.finding.severity, args.fail_on) for i in found) else 0


def cmd_fix(args: argparse.Namespace) -> int:
    from lab.check import fix

    loaded = _load_project(args)
    result = fix.plan(loaded, in_place=args.in_place, output=args.output, force=args.force)
    print(result.diff, end="")
    if args.write:
        fix.write(result)
    for line in result.summary(written=args.write):
        print(f"lab fix: {line}", file=sys.stderr)
    return 0


def _project_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--file", action="append", type=Path, metavar="FILE", help="compose file (repeatable)")
    p.add_argument(
        "--project-directory", type=Path, metavar="DIR", help="the project's folder (default: the first file's)"
    )
    p.add_argument("--profile", action="append", metavar="P", help="only this profile's services (default: every one)")
    p.add_argument("--env-file", action="append", type=Path, metavar="F", help="an env file for interpolation")


def build_parser() -> argparse.ArgumentParser:
    import lab
    from lab import connenv, progress

    parser = argparse.ArgumentParser(prog="lab", description="A local multi-service lab on loopback only.")
    parser.add_argument("--version", action="version", version=f"lab {lab.__version__} ({lab.DISTRIBUTION})")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_text: str, project: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if project:
            p.add_argument("--project", default=DEFAULT_PROJECT, help="compose project name (default: lab)")
        return p

    p = add("generate", cmd_generate, "write compose.yaml from the catalogue", project=False)
    p.add_argument("--check", action="store_true", help="exit 1 if compose.yaml differs from the catalogue")

    p = add("up", cmd_up, "build, start and wait until every service answers")
    p.add_argument("--port", action="append", metavar="SERVICE=PORT", help="host port for one service")
    p.add_argument("--dynamic-ports", action="store_true", help="free ports above the ephemeral range")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness (default 180)")
    p.add_argument("--override", action="append", metavar="FILE", help="an extra compose file (audited by verify)")
    p.add_argument("--no-harden", action="store_true", help="do not add the raw-table rules on engines < 28")
    p.add_argument("--no-verify", action="store_true", help="skip the verify run at the end")
    p.add_argument(
        "--progress",
        choices=progress.MODES,
        default="auto",
        help="tty: a live view; plain: a few lines per phase; quiet: errors only (default auto)",
    )
    _project_files(p)
    p.add_argument("--fix", action="store_true", help="with -f: republish off-loopback ports on loopback (lab fix)")

    p = add("verify", cmd_verify, "prove every service answers over loopback and nothing is reachable elsewhere")
    p.add_argument("--json", action="store_true", help="one JSON object: {ok, project, checks:[...]}")

    p = add(
        "harden", cmd_harden, "drop packets a neighbour sends to loopback or to the project's containers", project=False
    )
    p.add_argument("--project", help="whose network rules to add (default: lab) or, with --undo, remove")
    p.add_argument(
        "--undo", action="store_true", help="remove the project's rules; without --project, every rule lab added"
    )

    p = add("down", cmd_down, "stop and remove the stack's containers and network")
    p.add_argument("--volumes", action="store_true", help="also remove its volumes and credentials")

    p = add("status", cmd_status, "state of every service, probed for real")
    p.add_argument("--json", action="store_true")

    p = add("logs", cmd_logs, "show service logs")
    p.add_argument("service", nargs="?")
    p.add_argument("--follow", "-f", action="store_true")
    p.add_argument("--tail", type=int)

    p = add("ports", cmd_ports, "who listens on the stack's ports (or the ports given), loopback or exposed")
    p.add_argument("ports", nargs="*", type=_port_number, metavar="PORT")

    p = add("capture", cmd_capture, "capture the stack's traffic (loopback and its bridge) and show who talks to whom")
    p.add_argument("services", nargs="*", metavar="SERVICE", help="only flows from or to these services")
    p.add_argument("--seconds", type=float, default=5.0, help="how long to capture (default 5)")
    p.add_argument(
        "-w", "--write", type=Path, metavar="FILE.pcap", help="also keep the packets (pcap, both interfaces)"
    )

    p = add(
        "bench", cmd_bench, "lab's speed and size figures next to references measured in the same run", project=False
    )
    p.add_argument("--json", action="store_true", help="one JSON object: {machine, rows:[...]}")
    p.add_argument("--quick", action="store_true", help="3 rounds and short loads; docs/benchmarks.md not written")
    p.add_argument(
        "--cold", action="store_true", help="also a fresh clone's `make up` without lab's images (removes them)"
    )
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md and its plots")

    p = add(
        "check",
        cmd_check,
        "audit any Compose project's effective config: exposure, host escapes, credentials, hardening",
        project=False,
    )
    _project_files(p)
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    p.add_argument("--fail-on", choices=("low", "medium", "high"), default="high", help="exit 1 from this severity up")
    p.add_argument("--rules", action="store_true", help="list the rules and exit")
    p.add_argument("--explain", metavar="RULE", help="print a rule's page (what it flags, why, how to fix) and exit")
    p.add_argument("--config", type=Path, metavar="FILE", help="the project's settings (default: .lab.toml there)")
    p.add_argument("--baseline", type=Path, metavar="FILE", help="accept the findings in FILE: fail only on new ones")
    p.add_argument("--write-baseline", type=Path, metavar="FILE", help="write today's findings to FILE and exit 0")

    p = add("fix", cmd_fix, "the least change that publishes every port on loopback only", project=False)
    _project_files(p)
    p.add_argument("--write", action="store_true", help="write it (default: print the diff, write nothing)")
    p.add_argument("--output", type=Path, metavar="FILE", help="the override to write (default: compose.loopback.yaml)")
    p.add_argument("--in-place", action="store_true", help="edit the compose files themselves, comments kept")
    p.add_argument("--force", action="store_true", help="replace an existing override that `lab fix` did not write")

    add("doctor", cmd_doctor, "can `lab up` succeed here? each fact with a fix")

    p = add("env", cmd_env, 'connection settings with credentials (eval "$(lab env)")')
    p.add_argument("--format", choices=connenv.FORMATS, default="shell")
    return parser


def _terminate(_sig: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: namespaces, half-started stacks


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        try:
            return args.func(args)
        except Exception as exc:
            sdk = sys.modules.get("docker.errors")  # loaded by whatever talked to the engine, else none raised
            if sdk is not None and isinstance(exc, sdk.DockerException):  # after connect: translated in one place
                from lab import engine

                raise engine.translate(exc) from exc
            raise
    except BrokenPipeError:  # `lab … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a permission or socket problem lab did not foresee: still one line
        print(f"lab: error: {exc}", file=sys.stderr)
        hint = (
            "check the owner and permissions (was lab run with sudo before?)"
            if isinstance(exc, PermissionError)
            else "check the path or address named above"
        )
        print(f"lab: hint: {hint}", file=sys.stderr)
        return 1
    except LabError as exc:
        if os.environ.get("LAB_DEBUG") == "1":
            traceback.print_exc()
        if exc.details:
            print(exc.details, file=sys.stderr)
        print(f"lab: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"lab: hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
