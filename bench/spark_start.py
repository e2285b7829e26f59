"""Benchmark of a cold Spark driver, with and without the class-data sharing archive.

    python bench/spark_start.py              # 3 rounds, alternating; needs postgres and s3 up
    python bench/spark_start.py --rounds 5 --json

Each measurement is a fresh Python process that builds the driver (``spark_session``), runs a first
job (``range`` + ``sum``) and a first Iceberg query on the lakehouse catalog (``SHOW NAMESPACES``),
then stops. *Without*: ``CRYPTOLAKE_SPARK__CLASS_ARCHIVE=false``. *With*: the archive
``cryptolake stack setup`` recorded (the bench refuses to run without one). Prints the median of
each phase and the ratio with / without.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = r"""
import json, time
t0 = time.perf_counter()
from cryptolake.core.clients import spark_session
session = spark_session("cryptolake-bench-start")
t1 = time.perf_counter()
session.range(1000).selectExpr("sum(id)").collect()
t2 = time.perf_counter()
session.sql("SHOW NAMESPACES IN lakehouse").collect()
t3 = time.perf_counter()
session.stop()
print("RESULT " + json.dumps({"session": t1 - t0, "first_job": t2 - t1, "iceberg": t3 - t2,
                             "total": t3 - t0}))
"""


def _once(archive: bool) -> dict[str, float]:
    env = {**os.environ, "CRYPTOLAKE_SPARK__CLASS_ARCHIVE": "true" if archive else "false"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=600, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from cryptolake.core.clients.spark import class_archive

    archive = class_archive()
    if archive is None or not archive.is_file():
        raise SystemExit("no class archive: run `cryptolake stack setup` first")
    runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    for r in range(args.rounds):
        for label in ("without", "with") if r % 2 == 0 else ("with", "without"):
            runs[label].append(_once(label == "with"))
            if not args.json:
                print(f"round {r + 1} {label:7s} total {runs[label][-1]['total']:.1f} s",
                      flush=True)
    phases = ("session", "first_job", "iceberg", "total")
    med = {k: {p: statistics.median(x[p] for x in v) for p in phases} for k, v in runs.items()}
    report = {"archive": str(archive), "rounds": args.rounds, "median_s": med,
              "ratio": {p: med["with"][p] / med["without"][p] for p in phases}}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"\nmedian of {args.rounds} (seconds)   without    with   with / without")
    for p in phases:
        print(f"  {p:22s} {med['without'][p]:9.1f} {med['with'][p]:7.1f} "
              f"{report['ratio'][p]:10.2f}")


if __name__ == "__main__":
    main()
