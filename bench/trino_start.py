"""Benchmark: the local Trino from start to its first answered queries, with and without the AOT
class cache (JDK 25+, ``CRYPTOLAKE_TRINO__AOT_CACHE``), alternated in one run.

    python bench/trino_start.py              # 3 rounds of (without, with)
    python bench/trino_start.py --rounds 5 --json

It restarts the Trino of ``$CRYPTOLAKE_HOME`` (anyone using it is disrupted) and starts PostgreSQL
and the S3 store if they are down. Each start is timed to ``stack up trino`` reporting healthy (its
probe answers a query with a source stage and the lakehouse catalog is checked), then to a first
query on a lakehouse table; the Trino process's CPU seconds at that point tell the work the cache
saves, which holds on a busy machine too. A run with the cache first makes sure one is recorded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import psutil

from cryptolake.core.clients import trino as trino_client
from cryptolake.core.settings import get_settings
from cryptolake.core.stack import Stack
from cryptolake.core.supervisor import read_pidfile


def one_start(aot: bool) -> dict[str, Any]:
    settings = get_settings().model_copy(deep=True)
    settings.trino.aot_cache = aot
    stack = Stack(settings)
    stack.down(["trino"])
    t0 = time.monotonic()
    stack.up(["trino"])
    healthy = time.monotonic() - t0
    conn = trino_client.connect(settings)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT table_schema, count(*) FROM "
            f'"{settings.lakehouse.catalog}".information_schema.tables GROUP BY 1'
        )
        cur.fetchall()
        first_query = time.monotonic() - t0
    finally:
        conn.close()
    tracked = read_pidfile(stack.layout.pidfile("trino"))
    assert tracked is not None
    proc = psutil.Process(tracked.pid)
    cpu = proc.cpu_times()
    cmd = " ".join(proc.cmdline())
    return {
        "aot_cache": aot,
        "mapped": "-XX:AOTCache=" in cmd,
        "healthy_s": round(healthy, 2),
        "first_query_s": round(first_query, 2),
        "cpu_s": round(cpu.user + cpu.system, 1),
        "rss_mb": round(proc.memory_info().rss / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    stack = Stack()
    stack.up(["postgres", "s3"])
    one_start(True)  # records the cache if there is none (written when that Trino stops)
    rows = []
    for i in range(args.rounds):
        for aot in (False, True):
            row = one_start(aot)
            rows.append(row)
            if not args.json:
                print(
                    f"round {i + 1}  cache {'on ' if aot else 'off'}  healthy {row['healthy_s']:6.1f} s"
                    f"  first query {row['first_query_s']:6.1f} s  CPU {row['cpu_s']:6.1f} s"
                    f"  RSS {row['rss_mb']:5d} MB"
                    + ("" if row["mapped"] == aot else "  (cache not mapped!)"),
                    flush=True,
                )
    stack.down(["trino"])
    stack.up(["trino"])  # leave it running, with the default setting

    def med(key: str, aot: bool) -> float:
        return statistics.median(r[key] for r in rows if r["aot_cache"] is aot)

    summary = {
        key: {
            "off": med(key, False),
            "on": med(key, True),
            "ratio": med(key, True) / med(key, False),
        }
        for key in ("healthy_s", "first_query_s", "cpu_s", "rss_mb")
    }
    if args.json:
        print(json.dumps({"rounds": rows, "median": summary}, indent=2))
        return
    print(f"\nmedian of {args.rounds}          off       on    on/off")
    for key, label in (
        ("healthy_s", "healthy (s)"),
        ("first_query_s", "first query (s)"),
        ("cpu_s", "Trino CPU (s)"),
        ("rss_mb", "RSS (MB)"),
    ):
        s = summary[key]
        print(f"{label:<22} {s['off']:8.1f} {s['on']:8.1f}  {s['ratio']:8.2f}")


if __name__ == "__main__":
    main()
