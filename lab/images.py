"""Images with no registry: one Debian base (found, pulled or bootstrapped), then our builds.

Builds run through compose (BuildKit), so the host CA bundle reaches `pip` as a
build secret and never a layer. A build is skipped when neither its context nor
the base changed since the image was made.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker.errors

from lab import engine, podman, progress, runlock, timeline, tools
from lab.catalogue import SERVICES
from lab.compose_cli import Compose, stream
from lab.errors import BaseImageUnavailable, BuildFailed, ComposeFailed
from lab.project import cache_home
from lab.report import say

OFFICIAL_BASE = "debian:bookworm-slim"
LOCAL_BASE = "lab/base:bookworm"  # our own name: a bootstrapped image is not the official one
RECIPE_LABEL = "lab.base.recipe"  # on LOCAL_BASE: which MMDEBSTRAP made it (a changed recipe bootstraps again)
MMDEBSTRAP = [
    "mmdebstrap",
    "--variant=minbase",
    "--quiet",
    # merged-/usr set up by mmdebstrap's own hook: otherwise bookworm's init-system-helpers pulls in the
    # usrmerge package and with it perl, libperl and perl-modules (47 MB no image of ours uses).
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    # Lean: no man pages, docs or locales in the base, nor in anything apt adds later.
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    # What Debian's own docker images do (docker-apt-speedup): no fsync per unpacked file, since a build
    # that dies midway is thrown away anyway; 56 s -> 32 s for the bootstrap here. No translations
    # either. Both stay in the image's /etc, so every apt-get in our Dockerfiles gets them too.
    "--dpkgopt=force-unsafe-io",
    '--aptopt=Acquire::Languages "none"',
    "bookworm",
    "-",
]


def recipe() -> str:
    return hashlib.sha256("\0".join(MMDEBSTRAP[1:]).encode()).hexdigest()[:16]


def _image(name: str):
    try:
        return engine.client().images.get(name)
    except docker.errors.ImageNotFound:
        return None


def ensure_base() -> str:
    """Return the name of a Debian bookworm base image, provisioning one if needed."""
    if engine.image_id(OFFICIAL_BASE):
        return OFFICIAL_BASE
    local = _image(LOCAL_BASE)
    if local is not None:
        # without root, the old one still works
        if (local.labels or {}).get(RECIPE_LABEL) == recipe() or os.geteuid() != 0:
            return LOCAL_BASE
        say(f"{LOCAL_BASE} was made by an older recipe; bootstrapping it again")
        bootstrap()
        return LOCAL_BASE
    say(f"no base image; trying `docker pull {OFFICIAL_BASE}`")
    try:
        engine.client().images.pull(OFFICIAL_BASE)
        return OFFICIAL_BASE
    except docker.errors.DockerException as exc:
        why = getattr(exc, "explanation", None) or str(exc)
        reason = str(why).splitlines()[0].rsplit(": ", 1)[-1][:80]  # "no such host", not the whole URL chain
        say(f"pull failed ({reason}); bootstrapping {LOCAL_BASE} from Debian's packages")
    bootstrap()
    return LOCAL_BASE


def _ensure_mmdebstrap() -> str:
    found = tools.ensure("mmdebstrap", "mmdebstrap")
    if not found:
        raise BaseImageUnavailable("no base image: none present, `docker pull` failed, and mmdebstrap is missing")
    return found


def bootstrap() -> None:
    """mmdebstrap a minbase bookworm and pipe it into `docker import` as LOCAL_BASE."""
    timeline.mark("bootstrap")
    tool = _ensure_mmdebstrap()
    # Without root (a rootless engine's user), mmdebstrap unpacks in a user namespace of its own: the same
    # image, made from the user's subuid range. The mode is not part of the recipe: both make the same base.
    mode = [] if os.geteuid() == 0 else ["--mode=unshare"]
    view = progress.current()
    chatter = view.log.open("a") if view is not None and view.log else None  # mmdebstrap's progress lines
    with subprocess.Popen([tool, *mode, *MMDEBSTRAP[1:]], stdout=subprocess.PIPE, stderr=chatter) as strap:
        imported = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                'CMD ["bash"]',
                "--change",
                f"LABEL {RECIPE_LABEL}={recipe()}",
                "--message",
                "lab base: mmdebstrap minbase bookworm",
                "-",
                LOCAL_BASE,
            ],
            stdin=strap.stdout,
            capture_output=True,
            text=True,
        )
        assert strap.stdout is not None
        strap.stdout.close()
    if chatter is not None:
        chatter.close()
    if strap.returncode != 0 and mode:
        raise BaseImageUnavailable(
            f"bootstrapping {LOCAL_BASE} without root failed (mmdebstrap --mode=unshare exit {strap.returncode})",
            "it needs a subuid/subgid range for this user (`usermod --add-subuids 300000-365535 --add-subgids "
            "300000-365535 $USER`, as root) and user namespaces; or run `make up` once as root",
        )
    if strap.returncode != 0 or imported.returncode != 0:
        raise BaseImageUnavailable(f"bootstrapping {LOCAL_BASE} failed: {imported.stderr.strip()[-200:]}")
    say(f"bootstrapped {LOCAL_BASE}")


def context_hash(folder: Path, base_id: str) -> str:
    digest = hashlib.sha256(base_id.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_STEP = re.compile(r"^\s*> \[(\S+) (\d+/\d+)\] (.*?):?$")


def _failing_step(lines: list[str]) -> str:
    """BuildKit names the failing step (`> [echo 3/5] RUN ...:`); else its ERROR line; else the last."""
    errors = [ln for ln in lines if "exit code" in ln]
    for line in reversed(lines):
        match = _STEP.match(line)
        if match:
            code = re.search(r"exit code: \d+", errors[-1]) if errors else None
            return f"[{match.group(1)} {match.group(2)}] {match.group(3)[:200]}" + (
                f" ({code.group(0)})" if code else ""
            )
    for line in reversed(lines):
        if "ERROR" in line or "failed to solve" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "unknown step"


_OUT = threading.Lock()


def _build(compose: Compose, service: str, config: dict | None = None) -> ComposeFailed | None:
    """Build one image, its progress lines prefixed with its name; the failure, if any, is returned.
    With `config` (Podman), the engine's own builder builds it from the same effective build spec."""

    view = progress.current()

    class Prefixed:
        def write(self, line: str) -> None:
            if view is not None:  # to the build log, and its step into the progress view
                view.build_line(service, line)
                return
            with _OUT:
                sys.stderr.write(f"[{service}] {line}")

    timeline.mark("build", service=service)
    try:
        if config is not None:
            stream(podman.build_argv(service, config), compose.environ(), compose.cwd, Prefixed())
        else:
            compose.stream("--progress", "plain", "build", service, out=Prefixed())
    except ComposeFailed as exc:
        return exc
    finally:
        timeline.mark("built", service=service)
    return None


def drop(image_ids: list[str]) -> None:
    """The images a rebuild replaced, now untagged: lab made them, so lab removes them (each rebuild left
    ~0.5 GB of dangling images behind). The caller drops them once compose has recreated the containers
    that ran them: before that the engine refuses (in use), and one still in use elsewhere stays."""
    for image_id in image_ids:
        with contextlib.suppress(docker.errors.DockerException):
            engine.client().images.remove(image_id, noprune=False)


def ensure_images(compose: Compose, root: Path, force: bool = False) -> list[str]:
    """Build the images whose inputs changed; return the ids of the images they replaced (for `drop`).
    One run at a time per engine (runlock.IMAGES): a second `lab up` waits, then finds them built."""
    with runlock.held(runlock.IMAGES, "up", say=say, what="lab's image build"):
        return _ensure_images(compose, root, force)


def _ensure_images(compose: Compose, root: Path, force: bool) -> list[str]:
    base = ensure_base()
    base_id = engine.image_id(base) or base
    record_path = cache_home() / "images.json"  # images are per engine; losing this costs a rebuild
    try:
        record = json.loads(record_path.read_text())
    except (FileNotFoundError, ValueError):
        record = {}
    wanted = {s.name: context_hash(root / "services" / s.name, base_id) for s in SERVICES}
    current = {s.name: engine.image_id(s.image) for s in SERVICES}
    stale = [
        s.name
        for s in SERVICES
        if force or not current[s.name] or record.get(s.name) != {"hash": wanted[s.name], "id": current[s.name]}
    ]
    if not stale:
        return []
    if progress.current() is None:
        say(f"building {', '.join(stale)} on {base} (progress below, one line prefix per image)")
    compose.env["LAB_BASE_IMAGE"] = base
    # One compose build per image, all at once: compose's own build (no buildx here) goes in depends_on
    # order, which left api waiting for the other three. BuildKit still runs a step shared by two
    # Dockerfiles (the python layer of echo and api) once.
    config = None
    if engine.kind().podman:  # no BuildKit behind Podman's socket: its own builder
        config = json.loads(compose.run("config", "--format", "json").stdout)
    with ThreadPoolExecutor(max_workers=len(stale)) as pool:
        outcomes = list(pool.map(lambda name: _build(compose, name, config), stale))
    for name, failure in zip(stale, outcomes, strict=True):
        if failure is not None:
            lines = failure.stderr.splitlines()
            error = BuildFailed(name, _failing_step(lines), "\n".join(lines[-25:]))
            view = progress.current()
            if view is not None and view.log:
                error.hint += f"; the whole build log: {view.log}"
            raise error from failure
    replaced = []
    for name in stale:
        spec = next(s for s in SERVICES if s.name == name)
        record[name] = {"hash": wanted[name], "id": engine.image_id(spec.image)}
        if current[name] and current[name] != record[name]["id"]:
            replaced.append(current[name])
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return replaced
