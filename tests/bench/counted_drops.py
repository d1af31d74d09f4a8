"""The neighbour probe with and without positive evidence of a drop, side by side (issue 18).

    .venv/bin/python -m tests.bench.counted_drops [--project NAME] [--rounds 6]

Needs a running stack and root (the probe makes a network namespace; the counters are the raw table's and
the kernel's). Rounds alternate the order of the two ways so that neither always runs on a warmer machine.
"With counters": a guarded target's 50 ms silence is a drop once a DROP rule (or, for ::1, the kernel)
counted its packet. "Timeout only": every silence is waited out. Both must give the same verdicts.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lab import inventory
from lab import project as projects
from lab.catalogue import BY_NAME
from lab.verify import neighbour


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="lab")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    project = projects.load(args.project)
    containers, networks = inventory.containers(args.project), inventory.networks(args.project)
    ports = {(port, proto) for name, port in project.ports.items() for proto in BY_NAME[name].protocols}
    counted = neighbour._droppers

    def once(with_counters: bool) -> tuple[float, list]:
        neighbour._droppers = counted if with_counters else (lambda n, ipv6: {})
        try:
            start = time.perf_counter()
            checks = neighbour.check(ports, containers, networks)
            return time.perf_counter() - start, checks
        finally:
            neighbour._droppers = counted

    took: dict[bool, list[float]] = {True: [], False: []}
    verdicts: dict[bool, set] = {}
    for r in range(args.rounds):
        for way in (True, False) if r % 2 else (False, True):
            seconds, checks = once(way)
            took[way].append(seconds)
            verdicts[way] = {(c.target, c.status) for c in checks}
            if way:
                proven = sum("counted" in c.detail for c in checks)
    assert verdicts[True] == verdicts[False], verdicts[True] ^ verdicts[False]
    on, off = statistics.median(took[True]), statistics.median(took[False])
    print(f"neighbour probe, {len(verdicts[True])} verdicts, {args.rounds} rounds (medians)")
    print(f"  timeout only   {off:.3f} s")
    print(f"  with counters  {on:.3f} s  ({on / off:.2f}x; {proven} verdicts proven by a counter)")


if __name__ == "__main__":
    main()
