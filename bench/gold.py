"""Benchmark of Gold: a full ``dbt build`` vs an incremental one after one new day.

    python bench/gold.py                    # 2022 × 7 coins (hourly + daily series), real data
    python bench/gold.py --days 90          # a shorter year, for a quick look
    python bench/gold.py --keep             # leave the bench namespaces for inspection

Loads one year of recorded Binance 1h klines for 7 coins (from /work/shared/data), CoinGecko's
daily series for the coins it covers and the Fear & Greed index into a private Silver namespace,
all but the last day. Then it times ``dbt build --full-refresh`` (models + tests), appends the
last day, and times an incremental ``dbt build``. Prints the wall times, the time the models and
the tests took inside each build, and the ratio incremental / full (goal ≤ 0.2).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages/processing/tests/integration"))

import _silver_fixtures as fx  # noqa: E402
from _gold_env import drop_schema, sql  # noqa: E402

from cryptolake.core import get_settings  # noqa: E402
from cryptolake.core.clients import load_catalog  # noqa: E402
from cryptolake.processing.dbt import DbtRun, run_dbt  # noqa: E402

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT")
RATIO_GOAL = 0.2


def split(run: DbtRun) -> tuple[float, float]:
    models = sum(n.execution_time for n in run.nodes if n.resource_type == "model")
    tests = sum(n.execution_time for n in run.nodes if n.resource_type == "test")
    return models, tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=date.fromisoformat, default=date(2022, 1, 1))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the bench namespaces")
    parser.add_argument("--verbose", action="store_true", help="print the time of every model")
    args = parser.parse_args()
    if not fx.SHARED.is_dir():
        sys.exit(f"the shared data set is not at {fx.SHARED}")

    settings = get_settings()
    last = args.first + timedelta(days=args.days - 1)
    tag = uuid.uuid4().hex[:6]
    silver, gold = f"bench_{tag}_silver", f"bench_{tag}_audit"
    sql(settings, f'CREATE SCHEMA IF NOT EXISTS "{silver}"')
    try:
        t0 = time.perf_counter()
        data = fx.shared_rows(SYMBOLS, args.first, last - timedelta(days=1))
        loaded = fx.load(load_catalog(settings), silver, data)
        print(
            f"silver loaded ({args.first} .. {last - timedelta(days=1)}): {loaded} "
            f"in {time.perf_counter() - t0:.1f} s"
        )

        def build(full_refresh: bool) -> tuple[float, DbtRun]:
            started = time.perf_counter()
            run = run_dbt(
                "build",
                schema=gold,
                silver_schema=silver,
                full_refresh=full_refresh,
                settings=settings,
                threads=args.threads,
            )
            wall = time.perf_counter() - started
            if not run.success:
                sys.exit(f"dbt build failed: {[(n.unique_id, n.message) for n in run.failures]}")
            return wall, run

        full_s, full_run = build(full_refresh=True)
        new_day = fx.shared_rows(SYMBOLS, last, last)
        fx.load(load_catalog(settings), silver, new_day)
        inc_s, inc_run = build(full_refresh=False)

        ((hourly,),) = sql(settings, f'SELECT count(*) FROM "{gold}".fact_price_hourly')
        fm, ft = split(full_run)
        im, it = split(inc_run)
        print(
            f"gold rows: fact_price_hourly {hourly}, one new day = {len(new_day['ohlcv_1h'])} hourly rows"
        )
        print(
            f"full dbt build        : {full_s:7.1f} s wall  (models {fm:6.1f} s, tests {ft:6.1f} s)"
        )
        print(
            f"incremental dbt build : {inc_s:7.1f} s wall  (models {im:6.1f} s, tests {it:6.1f} s)"
        )
        ratio = inc_s / full_s
        print(
            f"ratio incremental/full: {ratio:7.3f}   (goal <= {RATIO_GOAL}: "
            f"{'met' if ratio <= RATIO_GOAL else 'not met'})"
        )
        print(f"models-only ratio     : {im / fm:7.3f}")
        if args.verbose:
            for label, run in (("full", full_run), ("incremental", inc_run)):
                for n in sorted(run.nodes, key=lambda n: -n.execution_time):
                    if n.resource_type == "model":
                        print(f"  {label:11s} {n.name:22s} {n.execution_time:5.1f} s  {n.message}")
    finally:
        if not args.keep:
            for schema in (gold, silver):
                drop_schema(settings, schema)
                for kind in ("target", "profiles"):
                    shutil.rmtree(Path(settings.home) / "dbt" / kind / schema, ignore_errors=True)


if __name__ == "__main__":
    main()
