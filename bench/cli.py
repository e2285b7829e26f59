"""Benchmark of the CLI's start-up: each command with the installed bytecode and without it.

    ~/.cache/cryptolake/venv/bin/python bench/cli.py [--rounds 3] [--json]

Where ``PYTHONDONTWRITEBYTECODE`` is set (as on this machine and many CI images) Python never
writes ``__pycache__``, so an environment installed without bytecode compiles every module it
imports from source, in every process: each ``cryptolake`` command, each Celery worker start,
each test subprocess. ``scripts/bootstrap.sh`` therefore compiles at install time. This
benchmark runs each read-only command below ``--rounds`` times in both conditions, alternating,
in the same run:

- **compiled**: the environment as installed (its ``.pyc`` files are used);
- **from source** (the baseline): ``PYTHONPYCACHEPREFIX`` points at an empty directory, so
  Python looks for bytecode there, finds none, and — with ``PYTHONDONTWRITEBYTECODE`` — compiles
  from source every time, as before the change.

Prints the median wall time per command in both, and their ratio. Needs the running stack for
the commands that read it (``cryptolake stack up``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = [
    ["config", "show", "--json"],
    ["stack", "status"],
    ["pipeline", "status"],
    ["lakehouse", "summary"],
    ["ml", "models"],
]


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "cryptolake.core.cli", *cmd], env=env,
                         capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"cryptolake {' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    compiled = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="cryptolake-nopyc-") as empty:
        source = {**compiled, "PYTHONPYCACHEPREFIX": empty}
        rows = []
        for cmd in COMMANDS:
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.rounds):
                a.append(_time(cmd, compiled))
                b.append(_time(cmd, source))
            if os.listdir(empty):  # the baseline must not have written bytecode
                raise SystemExit(f"{empty} is not empty: bytecode was written")
            rows.append({"command": " ".join(cmd), "compiled_s": round(statistics.median(a), 2),
                         "source_s": round(statistics.median(b), 2),
                         "ratio": round(statistics.median(a) / statistics.median(b), 2)})
            if not args.json:
                print(f"  {rows[-1]['command']}: {rows[-1]['compiled_s']} s / "
                      f"{rows[-1]['source_s']} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"rounds": args.rounds, "commands": rows}, indent=2))
        return
    print(f"{'command':26} {'compiled s':>11} {'from source s':>14} {'ratio':>6}")
    for r in rows:
        print(f"{r['command']:26} {r['compiled_s']:11.2f} {r['source_s']:14.2f} {r['ratio']:6.2f}")
    a_all = sum(r["compiled_s"] for r in rows)
    b_all = sum(r["source_s"] for r in rows)
    print(f"{'all (sum of medians)':26} {a_all:11.2f} {b_all:14.2f} {a_all / b_all:6.2f}")
    print(f"(medians of {args.rounds} rounds each, alternating; ratio = compiled / from source)")


if __name__ == "__main__":
    main()
