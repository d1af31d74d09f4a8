"""`lab verify`: running stack -> probes -> report (the run itself: lab/verify/proof.py).

The package loads its checks only when a run is asked for: `lab ports` and `lab doctor` use one probe of
it (neighbour.direct_exposure) and must not pay for every check's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.verify.proof import Proof, Report, begin, run

__all__ = ["Proof", "Report", "begin", "run"]


def __getattr__(name: str):
    if name in __all__:
        from lab.verify import proof

        return getattr(proof, name)
    raise AttributeError(f"module 'lab.verify' has no attribute {name!r}")
