"""Benchmark of the local stack: warm ``up`` to all-healthy, idle memory per service.

    python bench/stack.py              # warm up (stack running) + status, 3 rounds
    python bench/stack.py --restart    # also down + up from stopped (disrupts other users!)
    python bench/stack.py --setup      # also a second `setup` (must download nothing)

Prints each figure and its ratio to the issue's target (warm up ≤ 60 s, idle RSS ≤ 8 GB).
"""

from __future__ import annotations

import argparse
import statistics
import time

from cryptolake.core.stack import Stack

WARM_UP_TARGET_S = 60.0
IDLE_RSS_TARGET_MB = 8 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--restart", action="store_true", help="measure up from a stopped stack")
    parser.add_argument("--setup", action="store_true", help="measure a repeated setup")
    args = parser.parse_args()
    stack = Stack()

    if args.setup:
        t0 = time.monotonic()
        fetched = stack.setup()
        print(
            f"setup (repeat): {time.monotonic() - t0:6.1f} s, fetched: "
            f"{[k for k, v in fetched.items() if v] or 'nothing'}"
        )

    if args.restart:
        stack.down()
        t0 = time.monotonic()
        result = stack.up()
        took = time.monotonic() - t0
        print(f"up from stopped: {took:6.1f} s  (started {', '.join(result.started)})")

    stack.up()  # make sure it runs before the warm rounds
    warm = []
    for _ in range(args.rounds):
        t0 = time.monotonic()
        stack.up()
        warm.append(time.monotonic() - t0)
    med = statistics.median(warm)
    print(
        f"warm up to all-healthy: median {med:5.2f} s over {args.rounds} "
        f"(min {min(warm):.2f}, max {max(warm):.2f}); ratio to the 60 s target: "
        f"{med / WARM_UP_TARGET_S:.3f}"
    )

    t0 = time.monotonic()
    statuses = stack.status()
    print(f"status (5 real probes): {time.monotonic() - t0:5.2f} s")
    total = 0.0
    for s in statuses:
        total += s.rss_mb or 0
        print(f"  {s.service:<9} {s.rss_mb or 0:8.0f} MB  healthy={s.healthy}  {s.version}")
    print(
        f"idle RSS total: {total:.0f} MB; ratio to the 8 GB target: "
        f"{total / IDLE_RSS_TARGET_MB:.3f}"
    )


if __name__ == "__main__":
    main()
