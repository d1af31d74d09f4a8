import pytest

from lab import engine


@pytest.mark.parametrize(
    "text, parsed, fixed",
    [
        ("20.10.24+dfsg1", (20, 10, 24), False),
        ("27.5.1", (27, 5, 1), False),
        ("28.0.0", (28, 0, 0), True),
        ("28.2.2-1", (28, 2, 2), True),
        ("29.0", (29, 0, 0), True),
    ],
)
def test_versions_and_the_loopback_fix(text, parsed, fixed):
    assert engine.parse_version(text) == parsed
    assert engine.has_loopback_fix(text) is fixed
