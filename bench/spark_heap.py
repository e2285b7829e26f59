"""Benchmark: the resident memory of an idle Spark driver, with and without
``spark.driver_java_options`` (``CRYPTOLAKE_SPARK__DRIVER_JAVA_OPTIONS``), in one run.

    python bench/spark_heap.py                # idle 150 s after the job
    python bench/spark_heap.py --idle 300 --json

Each variant is a fresh driver process (``local[2]``, the settings of ``$CRYPTOLAKE_HOME``; no
service is needed) that runs the same job — an aggregation and a sort over 4 million generated
rows, the size of a Silver full load — then sits idle. Prints the job's seconds (the options
must not slow the work) and the driver JVM's resident memory after the job and every 30 s of
idleness. The worker and the stream job keep such a driver for their whole life.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

CHILD = r"""
import json, sys, time, psutil
from cryptolake.core.clients import spark_session
from cryptolake.core.settings import get_settings
settings = get_settings().model_copy(deep=True)
settings.spark.driver_java_options = sys.argv[1]
idle, every = float(sys.argv[2]), 30.0
session = spark_session("bench-spark-heap", settings)
t0 = time.perf_counter()
df = session.range(0, 4_000_000).selectExpr("id % 1000 AS k", "id * 2 AS v", "CAST(id AS string) AS t")
df.groupBy("k").agg({"v": "sum", "t": "max"}).collect()
df.orderBy("t").limit(10).collect()
job_s = time.perf_counter() - t0
jvm = next(p for p in psutil.Process().children(recursive=True) if "java" in p.name())
samples = [(0.0, jvm.memory_info().rss)]
waited = 0.0
while waited < idle:
    time.sleep(every)
    waited += every
    samples.append((waited, jvm.memory_info().rss))
print(json.dumps({"job_s": job_s, "rss": samples}))
"""


def one(options: str, idle: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", CHILD, options, str(idle)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from cryptolake.core.settings import DRIVER_JAVA_OPTIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=150.0, help="seconds idle after the job")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = {"without": one("", args.idle), "with": one(DRIVER_JAVA_OPTIONS, args.idle)}
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    print(f"options: {DRIVER_JAVA_OPTIONS}")
    print(f"{'':<22} {'without':>9} {'with':>9} {'with/without':>13}")
    a, b = runs["without"]["job_s"], runs["with"]["job_s"]
    print(f"{'job seconds':<22} {a:>9.1f} {b:>9.1f} {b / a:>13.2f}")
    for (t, ra), (_, rb) in zip(runs["without"]["rss"], runs["with"]["rss"], strict=True):
        label = "RSS after the job MB" if t == 0 else f"RSS idle {t:.0f} s MB"
        print(f"{label:<22} {ra / 2**20:>9.0f} {rb / 2**20:>9.0f} {rb / ra:>13.2f}")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
