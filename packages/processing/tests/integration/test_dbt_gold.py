"""Gold with dbt-trino on recorded real data (real Trino, real Iceberg)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import _silver_fixtures as fx
import pytest
from _gold_env import GoldNamespaces, gold_namespaces, sql

from cryptolake.core import Settings
from cryptolake.core.clients import load_catalog
from cryptolake.processing.dbt import run_dbt

pytestmark = pytest.mark.integration

FIRST, LAST = date(2022, 1, 1), date(2022, 2, 15)
MARTS_AND_INTS = {
    "fact_price_hourly": ("symbol", "open_time"),
    "market_ohlc": ("symbol", "timeframe", "bucket_start"),
    "fact_market_daily": ("symbol", "date"),
    "int_market_daily__enriched": ("symbol", "date"),
    "int_prices__rolled_up_daily": ("symbol", "date"),
    "dim_coins": ("symbol",),
    "dim_dates": ("date_day",),
}


@pytest.fixture(scope="module")
def env(lakehouse_stack: Any) -> Iterator[tuple[Settings, GoldNamespaces]]:
    settings: Settings = lakehouse_stack.settings
    with gold_namespaces(settings) as ns:
        # the recorded sample up to the day before the last one; the last day comes later
        fx.load(load_catalog(settings), ns.silver, fx.sample_rows(last=LAST - timedelta(days=1)))
        yield settings, ns


def build(settings: Settings, ns: GoldNamespaces, schema: str, *, full_refresh: bool = False,
          command: str = "build", vars: dict[str, Any] | None = None) -> Any:
    run = run_dbt(command, schema=schema, silver_schema=ns.silver, full_refresh=full_refresh,
                  settings=settings, vars=vars)
    assert run.success, [(n.unique_id, n.status, n.message) for n in run.failures] or run.error
    return run


@pytest.fixture(scope="module")
def full_build(env: tuple[Settings, GoldNamespaces]) -> Any:
    """The first ``dbt build --full-refresh`` of the module's data."""
    settings, ns = env
    return build(settings, ns, ns.audit, full_refresh=True)


def rows(settings: Settings, schema: str, table: str) -> list[tuple[Any, ...]]:
    cols = [r[0] for r in sql(settings, f'SHOW COLUMNS FROM "{schema}"."{table}"') if r[0] != "loaded_at"]
    key = ", ".join(MARTS_AND_INTS[table])
    return sql(settings, f'SELECT {", ".join(cols)} FROM "{schema}"."{table}" ORDER BY {key}')


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_build_and_test_on_recorded_data(env: tuple[Settings, GoldNamespaces], full_build: Any) -> None:
    settings, ns = env
    statuses = full_build.summary()
    assert statuses.get("success") == 10 and statuses.get("pass", 0) >= 60, statuses

    days = (LAST - FIRST).days  # 45 loaded days
    counts = dict(sql(settings, f'SELECT timeframe, count(*) FROM "{ns.audit}".market_ohlc GROUP BY 1'))
    assert counts == {"1h": 3 * days * 24, "4h": 3 * days * 6, "1d": 3 * days}

    # a daily candle equals the recorded hours it covers
    hours = [r for r in fx.sample_rows(FIRST, FIRST)["ohlcv_1h"] if r["symbol"] == "BTCUSDT"]
    (o, h, lo, c, v), = sql(settings, f"""SELECT open, high, low, close, volume FROM "{ns.audit}".market_ohlc
        WHERE symbol = 'BTCUSDT' AND timeframe = '1d' AND bucket_start = TIMESTAMP '2022-01-01 00:00 UTC'""")
    assert (o, h, lo, c) == (hours[0]["open"], max(r["high"] for r in hours),
                            min(r["low"] for r in hours), hours[-1]["close"])
    assert math.isclose(v, sum(r["volume"] for r in hours), rel_tol=1e-12)

    # the 30-day moving average and the 7-day volatility of the last day, recomputed here
    daily = sorted((r["date"], r["price"]) for r in fx.sample_rows(FIRST, LAST - timedelta(days=1))["market_daily"]
                   if r["coin_id"] == "bitcoin")
    last_day = daily[-1][0]
    ma30, vol7, fg = sql(settings, f"""SELECT ma_30d, volatility_7d, fear_greed_value FROM "{ns.audit}".fact_market_daily
        WHERE symbol = 'BTCUSDT' AND date = DATE '{last_day.isoformat()}'""")[0]
    assert math.isclose(ma30, statistics.fmean(p for _, p in daily[-30:]), rel_tol=1e-12)
    returns = [math.log(b / a) for (_, a), (_, b) in zip(daily[-8:-1], daily[-7:], strict=True)]
    assert math.isclose(vol7, statistics.stdev(returns), rel_tol=1e-9)
    expected_fg = {r["date"]: r["value"] for r in fx.sample_rows(last_day, last_day)["fear_greed"]}
    assert fg == expected_fg[last_day]


def test_docs_generate(env: tuple[Settings, GoldNamespaces], full_build: Any) -> None:
    settings, ns = env
    build(settings, ns, ns.audit, command="docs")
    catalog = json.loads((settings.home / "dbt" / "target" / ns.audit / "catalog.json").read_text())
    assert any(k.endswith("fact_market_daily") for k in catalog["nodes"])


def test_incremental_build_equals_full_refresh(env: tuple[Settings, GoldNamespaces]) -> None:
    settings, ns = env
    build(settings, ns, ns.audit, full_refresh=True)
    # what the build read: the newest updated_at of each Silver input (what dbt.gold records)
    marks = {t: sql(settings, f'SELECT max(updated_at) FROM "{ns.silver}"."{t}"')[0][0].isoformat()
             for t in ("ohlcv_1h", "market_daily", "fear_greed")}
    # a new day arrives, and Silver corrects the last hour of the day before (late data)
    catalog = load_catalog(settings)
    fx.load(catalog, ns.silver, fx.sample_rows(LAST, LAST))
    sql(settings, f"""UPDATE "{ns.silver}".ohlcv_1h SET close = close * 1.01, high = greatest(high, close * 1.01),
        updated_at = current_timestamp
        WHERE symbol = 'ETHUSDT' AND open_time = TIMESTAMP '2022-02-14 23:00 UTC'""")
    # the incremental build rebuilds only what changed since (and the windows over it)
    incremental = build(settings, ns, ns.audit, vars={"changed_since": marks})
    merged = [n for n in incremental.nodes if n.unique_id.startswith("model.") and "MERGE" in n.message]
    assert len(merged) == 5, [n.message for n in incremental.nodes if n.unique_id.startswith("model.")]
    build(settings, ns, ns.full, full_refresh=True)

    for table in MARTS_AND_INTS:
        inc, full = rows(settings, ns.audit, table), rows(settings, ns.full, table)
        assert len(inc) == len(full), table
        bad = [(a, b) for a, b in zip(inc, full, strict=True)
               if not all(same(x, y) for x, y in zip(a, b, strict=True))]
        assert not bad, f"{table}: incremental differs from full refresh, e.g. {bad[:2]}"
    # and the late correction did reach Gold
    (close,), = sql(settings, f"""SELECT close FROM "{ns.audit}".market_ohlc WHERE symbol = 'ETHUSDT'
        AND timeframe = '1d' AND bucket_start = TIMESTAMP '2022-02-14 00:00 UTC'""")
    (silver_close,), = sql(settings, f"""SELECT close FROM "{ns.silver}".ohlcv_1h WHERE symbol = 'ETHUSDT'
        AND open_time = TIMESTAMP '2022-02-14 23:00 UTC'""")
    assert close == silver_close
