"""Benchmark: one Gold build (write-audit-publish) with its statements in flight one or two at a
time, as before, against a few at a time — alternated in one run on the same Silver.

    python bench/gold_build.py               # 3 rounds of (before, after)
    python bench/gold_build.py --rounds 5 --json

*Before* is dbt with 2 threads, the Gold suites one after the other and the marts published one
after the other; *after* is this checkout's defaults (``DbtBuildConfig.threads``,
``suite_threads``, ``publish.PUBLISH_THREADS``). Each build is a full refresh of every model
from the published Silver of ``$CRYPTOLAKE_HOME`` (run ``make demo`` or a pipeline first) into
private audit, published and ops namespaces, dropped at the end; published Gold is not touched.
Prints the median seconds of each phase (``details.seconds`` of the ``dbt.gold`` job) and the
ratio after / before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages/processing/tests/integration"))

from _gold_env import drop_schema  # noqa: E402

from cryptolake.core import JobContext, build_plugin_manager, get_settings, run_job  # noqa: E402
from cryptolake.processing.dbt import DbtBuildConfig, DbtGoldJob  # noqa: E402
from cryptolake.processing.dbt import publish as publish_mod  # noqa: E402

PHASES = ("inputs", "dbt_run", "dbt_test", "audit", "publish")


def one_build(settings: Any, host: Any, ns: dict[str, str], before: bool) -> dict[str, Any]:
    defaults = DbtBuildConfig()
    cfg = DbtBuildConfig(full_refresh=True, skip_unchanged=False,
                         threads=2 if before else defaults.threads,
                         suite_threads=1 if before else defaults.suite_threads)
    publish_threads = publish_mod.PUBLISH_THREADS
    publish_mod.PUBLISH_THREADS = 1 if before else publish_threads
    try:
        ctx = JobContext(kind="transform", name="dbt.gold", settings=settings, host=host,
                         params={"audit_schema": ns["audit"], "published_schema": ns["published"],
                                 "ops_namespace": ns["ops"]})
        started = time.perf_counter()
        result = run_job(ctx, DbtGoldJob(cfg).run)
        wall = time.perf_counter() - started
    finally:
        publish_mod.PUBLISH_THREADS = publish_threads
    seconds = result.details.get("seconds", {})
    return {"before": before, "wall_s": round(wall, 2), "rows_out": result.rows_out,
            **{p: round(float(seconds.get(p, 0.0)), 2) for p in PHASES}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    host = build_plugin_manager(settings)
    tag = uuid.uuid4().hex[:8]
    ns = {k: f"bench_{tag}_{k}" for k in ("audit", "published", "ops")}
    runs: list[dict[str, Any]] = []
    try:
        one_build(settings, host, ns, before=False)  # warm-up: the tables exist, dbt parsed
        for i in range(args.rounds):
            for before in (True, False):
                run = one_build(settings, host, ns, before)
                runs.append(run)
                if not args.json:
                    print(f"round {i + 1} {'before' if before else 'after '}: "
                          f"{run['wall_s']:6.1f} s  " + "  ".join(
                              f"{p} {run[p]:.1f}" for p in PHASES), flush=True)
    finally:
        for schema in ns.values():
            try:
                drop_schema(settings, schema)
            except Exception as exc:  # - cleanup must go on
                print(f"could not drop {schema}: {exc}", file=sys.stderr)

    def median(before: bool, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["before"] is before)

    rows = [(key, median(True, key), median(False, key)) for key in ("wall_s", *PHASES)]
    if args.json:
        print(json.dumps({"runs": runs, "median": {k: {"before": b, "after": a}
                                                   for k, b, a in rows}}, indent=2))
        return
    defaults = DbtBuildConfig()
    print(f"\nmedian of {args.rounds}; before: dbt threads 2, suites and marts one at a time;"
          f"\nafter: dbt threads {defaults.threads}, {defaults.suite_threads} suites and "
          f"{publish_mod.PUBLISH_THREADS} marts at a time")
    print(f"{'phase':<10} {'before s':>9} {'after s':>9} {'after/before':>13}")
    for key, b, a in rows:
        print(f"{key:<10} {b:>9.1f} {a:>9.1f} {a / b if b else float('nan'):>13.2f}")


if __name__ == "__main__":
    main()
