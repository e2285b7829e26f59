"""Silver on the real stack: which candidate becomes an hour's candle, and what Silver drops.

Issue 11: item 2 (an open 1h kline never outranks a complete roll-up of 1m bars) and item 15
(every row dropped between Bronze and Silver is counted and recorded with its reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cryptolake.core import JobContext, JobResult, build_plugin_manager, run_job
from cryptolake.core.clients import load_catalog, spark_session
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.core.testing.stack import drop_namespace
from cryptolake.processing.spark import testing as rec

pytestmark = pytest.mark.integration

T0 = datetime(2024, 12, 1, 0, 0, tzinfo=UTC)
FETCHED = datetime(2024, 12, 2, tzinfo=UTC)


@pytest.fixture
def silver_ns(lakehouse_stack: Any, lakehouse_namespace: str) -> Iterator[str]:
    settings = lakehouse_stack.settings
    name = f"{lakehouse_namespace}_silver"
    load_catalog(settings).create_namespace(name)
    yield name
    drop_namespace(name, settings)


def run(settings: Settings, name: str, bronze: str, silver: str) -> JobResult:
    host = build_plugin_manager(settings, autoload=True, strict=True)
    entry = host.transforms.get(name)
    job = entry.load()(entry.configure({"bronze_namespace": bronze, "silver_namespace": silver}))
    return run_job(JobContext(kind="transform", name=name, settings=settings, host=host), job.run)


def minute(symbol: str, t: datetime, price: float, closed: bool = True) -> rec.Kline:
    p = f"{price:.8f}"
    return rec.Kline(symbol, "1m", t, p, p, p, p, "1.00000000", None, 1, closed)


@pytest.mark.timeout(900)
def test_hourly_ranking_and_recorded_drops(lakehouse_settings: Settings, lakehouse_namespace: str,
                                           silver_ns: str) -> None:
    settings, bronze = lakehouse_settings, lakehouse_namespace
    rows: list[dict[str, Any]] = []
    hour = timedelta(hours=1)
    # hour 0: all 60 minutes closed (prices 100..159), and an OPEN 1h kline fetched at minute 10
    for m in range(60):
        rows.append(rec.bronze_kline_row(
            minute("BTCUSDT", T0 + timedelta(minutes=m), 100 + m).event(), FETCHED, len(rows)))
    open_1h = rec.Kline("BTCUSDT", "1h", T0, "100.00000000", "110.00000000", "100.00000000",
                        "110.00000000", "11.00000000", None, 11, is_closed=False)
    rows.append(rec.bronze_kline_row(open_1h.event(T0 + timedelta(minutes=10)), FETCHED, len(rows)))
    # hour 1: a closed 1h kline and 30 minutes: the exchange's closed candle wins
    closed_1h = replace(open_1h, open_time=T0 + hour, open="200.00000000", close="210.00000000",
                        high="220.00000000", low="190.00000000", is_closed=True)
    rows.append(rec.bronze_kline_row(closed_1h.event(), FETCHED, len(rows)))
    for m in range(30):
        rows.append(rec.bronze_kline_row(
            minute("BTCUSDT", T0 + hour + timedelta(minutes=m), 300).event(), FETCHED, len(rows)))
    # hour 2: 20 minutes so far and an open 1h kline: the open kline beats a partial roll-up
    in_progress = replace(open_1h, open_time=T0 + 2 * hour, open="400.00000000",
                          close="405.00000000", high="406.00000000", low="399.00000000")
    rows.append(rec.bronze_kline_row(in_progress.event(), FETCHED, len(rows)))
    for m in range(20):
        rows.append(rec.bronze_kline_row(
            minute("BTCUSDT", T0 + 2 * hour + timedelta(minutes=m), 500).event(), FETCHED,
            len(rows)))
    # a 1m kline whose close Binance sent as garbage: dropped, counted, recorded
    bad = rec.bronze_kline_row(minute("ETHUSDT", T0, 1.0).event(), FETCHED, len(rows))
    bad["close"] = "not-a-number"
    rows.append(bad)

    contract = get_contract("bronze.binance_klines")
    ensure_table(load_catalog(settings), contract, namespace=bronze)
    session = spark_session("cryptolake-tests", settings)
    rec.append_rows(session, f"{settings.lakehouse.catalog}.{bronze}.binance_klines", contract, rows)

    m1 = run(settings, "silver.ohlcv_1m", bronze, silver_ns)
    assert m1.rejected == 1, m1.details
    assert m1.details["dropped"] == {"close is null or not a valid value": 1}
    h1 = run(settings, "silver.ohlcv_1h", bronze, silver_ns)
    hourly = load_catalog(settings).load_table(f"{silver_ns}.ohlcv_1h").scan().to_pandas()
    hourly = hourly[hourly["symbol"] == "BTCUSDT"].sort_values("open_time").reset_index(drop=True)
    got = [(r.source, r.open, r.close, r.high) for r in hourly.itertuples()]
    assert got == [
        ("1m", 100.0, 159.0, 159.0),      # 60 closed minutes beat the open 1h kline
        ("klines", 200.0, 210.0, 220.0),  # the exchange's closed candle beats everything
        ("klines", 400.0, 405.0, 406.0),  # an open kline beats a partial roll-up
    ], h1.details

    rejects = load_catalog(settings).load_table(f"{silver_ns}.rejects").scan().to_pandas()
    assert len(rejects) == 1
    (r,) = rejects.itertuples()
    assert (r.job, r.reason) == ("silver.ohlcv_1m", "close is null or not a valid value")
    assert r.source_table.endswith(f"{bronze}.binance_klines") and "ETHUSDT" in r.origin
