"""An image with no tag (it means `:latest`) or a tag made to move (`latest`, `stable`, `edge`,
`nightly`, `dev`, `test`, `beta`, `canary`, `lts`), and no digest: what runs changes on the next pull, without a word.

Services with `build:` are left out: their `image:` names what Compose builds here, not what it
pulls, so there is nothing to pin in the compose file (pin the Dockerfile's `FROM` instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lab.rules import MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB017",
    "image-tag-mutable",
    MEDIUM,
    "an image with no tag, or a moving tag such as `latest`, and no digest",
    "pin a version tag (`postgres:16.4`), better its digest too (`postgres:16.4@sha256:…`)",
    ("compose-lint CL-0004", "dclint service-image-require-explicit-tag", "CIS Docker Benchmark 5.27"),
)

MOVING = frozenset({"latest", "stable", "edge", "nightly", "dev", "test", "beta", "canary", "lts"})  # CL ∪ dclint


def split(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; a registry's port is not a tag (`host:5000/app`)."""
    ref, _at, digest = image.partition("@")
    name, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        return ref, None, digest or None
    return name, tag, digest or None


def pulled(svc: dict[str, Any]) -> str | None:
    """The image reference a service pulls, or None (no image, or one Compose builds here)."""
    image = svc.get("image")
    if not isinstance(image, str) or not image.strip() or svc.get("build"):
        return None
    return image.strip()


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        image = pulled(svc)
        if image is None:
            continue
        _name, tag, digest = split(image)
        if digest:
            continue
        if tag is None or tag.lower() in MOVING:
            yield Finding(
                RULE.id,
                MEDIUM,
                name,
                "image",
                image,
                "no tag: that is `latest`" if tag is None else f"`{tag}` moves: every pull may bring another image",
                RULE.fix,
                anchor=("services", name, "image"),
            )
