"""An image pinned to a version tag but not a digest (`postgres:16.4`): the registry can move the tag
(a re-push, a compromised account), so the bytes that run are not fixed. Moving tags are LAB017's.

Services with `build:` are left out, as in LAB017: their image is built here.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import LOW, Context, Finding, Rule
from lab.rules.LAB017_image_mutable_tag import MOVING, pulled, split

RULE = Rule(
    "LAB024",
    "image-without-digest",
    LOW,
    "an image pinned to a tag but not to a digest",
    "add its digest: `image: NAME:TAG@sha256:…` (Renovate or Dependabot keep it current)",
    ("compose-lint CL-0019", "CIS Docker Benchmark 4.5"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        image = pulled(svc)
        if image is None:
            continue
        _name, tag, digest = split(image)
        if digest or tag is None or tag.lower() in MOVING:
            continue
        yield Finding(
            RULE.id,
            LOW,
            name,
            "image",
            image,
            "a tag, not a digest: the registry can move it",
            RULE.fix,
            anchor=("services", name, "image"),
        )
