"""A `tmpfs:` entry with `exec` or `suid`: Docker mounts tmpfs noexec,nosuid by default; this turns
that off, so a writable in-memory path becomes a place to drop a binary and run it — the one thing
`read_only: true` was meant to stop."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule

RULE = Rule(
    "LAB027",
    "tmpfs-exec",
    LOW,
    "a tmpfs mount with `exec` or `suid`",
    "remove `exec`/`suid` from the tmpfs options (keep them only if the workload runs binaries from there)",
    ("compose-lint CL-0022", "OWASP Docker Security Cheat Sheet rule 8"),
)

INSECURE = ("exec", "suid")


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        tmpfs = svc.get("tmpfs") or []
        for entry in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
            path, _sep, options = str(entry).partition(":")
            found = [o for o in INSECURE if o in {t.strip().lower() for t in options.split(",")}]
            if found:
                yield Finding(
                    RULE.id,
                    LOW,
                    name,
                    f"tmpfs {path}",
                    ", ".join(found),
                    "a writable path where dropped binaries can run",
                    RULE.fix,
                    anchor=("services", name, "tmpfs"),
                    item=path,  # a path: located like a bind source ("/tmp" in "/tmp:exec")
                )
