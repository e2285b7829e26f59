"""Bronze → Silver Spark jobs on the real stack: exact rows, reruns change nothing, late data lands.

Bronze is seeded through pyiceberg with recorded Binance klines (and trades derived from them);
the jobs run through the plugin registry exactly as ``cryptolake transform run`` runs them; the
results are read back through pyiceberg and compared with an independent pandas computation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptolake.core import JobContext, JobResult, build_plugin_manager, run_job
from cryptolake.core.clients import load_catalog, spark_session
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.core.testing.stack import drop_namespace
from cryptolake.processing.spark import testing as rec

pytestmark = pytest.mark.integration

T0 = datetime(2024, 12, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def silver_ns(lakehouse_stack: Any, lakehouse_namespace: str) -> Iterator[str]:
    """A second private namespace for Silver (Bronze and Silver both have a ``fear_greed``)."""
    settings = lakehouse_stack.settings
    name = f"{lakehouse_namespace}_silver"
    load_catalog(settings).create_namespace(name)
    yield name
    drop_namespace(name, settings)


NS: dict[str, str] = {}


def run(settings: Settings, name: str, ns: str, start: datetime | None = None,
        end: datetime | None = None, **config: Any) -> JobResult:
    host = build_plugin_manager(settings, autoload=True, strict=True)
    entry = host.transforms.get(name)
    job = entry.load()(entry.configure(
        {"bronze_namespace": ns, "silver_namespace": NS.get(ns, ns), **config}))
    ctx = JobContext(kind="transform", name=name, settings=settings, host=host, start=start,
                     end=end)
    return run_job(ctx, job.run)


def table(settings: Settings, ident: str, sort: list[str]) -> pd.DataFrame:
    df = load_catalog(settings).load_table(ident).scan().to_pandas()
    return df.sort_values(sort).reset_index(drop=True)


def snapshot(settings: Settings, ident: str) -> int | None:
    snap = load_catalog(settings).load_table(ident).current_snapshot()
    return snap.snapshot_id if snap else None


def seed(settings: Settings, ns: str, name: str, rows: list[dict[str, Any]]) -> str:
    contract = get_contract(f"bronze.{name}")
    ensure_table(load_catalog(settings), contract, namespace=ns)
    session = spark_session("cryptolake-tests", settings)
    rec.append_rows(session, f"{settings.lakehouse.catalog}.{ns}.{name}", contract, rows)
    return f"{ns}.{name}"


def silver(ns: str, name: str) -> str:
    return f"{NS.get(ns, ns)}.{name}"


def rerun_changes_nothing(settings: Settings, ns: str, job: str, out: str, keys: list[str],
                          first: JobResult | None = None, **kw: Any) -> pd.DataFrame:
    """Run ``job`` (unless ``first`` is its result already) and again: the second run must
    commit nothing and leave identical rows."""
    first = first or run(settings, job, ns, **kw)
    assert first.rows_out > 0, first
    before = table(settings, silver(ns, out), keys)
    snap = snapshot(settings, silver(ns, out))
    second = run(settings, job, ns, **kw)
    assert second.rows_out == 0, second.details
    assert snapshot(settings, silver(ns, out)) == snap
    pd.testing.assert_frame_equal(table(settings, silver(ns, out), keys), before)
    return before


@pytest.mark.timeout(900)
def test_trades_candles_vwap_from_recorded_minutes(lakehouse_settings: Settings,
                                                   lakehouse_namespace: str) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    klines = rec.klines_1m(limit=30)  # 2024-11-30 23:00 .. 23:29 UTC, real BTCUSDT
    trades = rec.trades_from_klines(klines)
    fetched = datetime(2024, 12, 2, tzinfo=UTC)
    # out of order (reversed), and every 7th trade delivered twice (a reconnect replay)
    rows = [rec.bronze_trade_row(e, fetched, i) for i, e in enumerate(reversed(trades))]
    rows += [rec.bronze_trade_row(e, fetched + timedelta(seconds=1), 10_000 + i)
             for i, e in enumerate(trades[::7])]
    seed(settings, ns, "binance_agg_trades", rows)
    # klines for the first 25 minutes only; an open update before the closed one for minute 0;
    # minute 3's kline disagrees with its trades (the exchange saw one more trade)
    kl_rows = [rec.bronze_kline_row(rec.Kline(**{**klines[0].__dict__, "is_closed": False,
                                                  "close": "1.00000000"}).event(
        klines[0].open_time + timedelta(seconds=20)), fetched, 0)]
    for i, k in enumerate(klines[:25]):
        if i == 3:
            k = rec.Kline(**{**k.__dict__, "trade_count": (k.trade_count or 0) + 1})
        kl_rows.append(rec.bronze_kline_row(k.event(), fetched, i + 1))
    seed(settings, ns, "binance_klines", kl_rows)

    # silver.trades: deduplicated, typed, exact
    first = run(settings, "silver.trades", ns)
    assert first.details["bronze_rows"] == 120 + 18  # every 7th of 120 trades came twice
    assert first.details["duplicates_dropped"] == 18
    silver_trades = rerun_changes_nothing(settings, ns, "silver.trades", "trades",
                                          ["symbol", "agg_trade_id"], first=first)
    assert len(silver_trades) == len(trades) == 120
    assert silver_trades["agg_trade_id"].tolist() == [t["a"] for t in trades]
    assert silver_trades["price"].tolist() == [float(t["p"]) for t in trades]

    # silver.ohlcv_1m: 30 candles; 25 reconciled with klines, one flagged; 5 from trades only
    result = run(settings, "silver.ohlcv_1m", ns)
    assert result.details["kline_mismatches"] == 1
    assert result.details["mismatched_candles"] == ["BTCUSDT@2024-11-30T23:03Z"]
    candles = rerun_changes_nothing(settings, ns, "silver.ohlcv_1m", "ohlcv_1m",
                                    ["symbol", "open_time"], first=result)
    assert len(candles) == 30
    assert candles["source"].tolist() == ["trades+klines"] * 25 + ["trades"] * 5
    assert candles["kline_mismatch"].tolist()[:25] == [i == 3 for i in range(25)]
    for k, c in zip(klines, candles.itertuples(), strict=True):
        assert c.open_time == pd.Timestamp(k.open_time)
        assert (c.open, c.high, c.low, c.close) == tuple(
            float(v) for v in (k.open, k.high, k.low, k.close))
        assert c.volume == pytest.approx(float(k.volume), rel=1e-12)

    # a late trade for 23:27 (trades only) lifts that candle's high and volume, and nothing else
    late = {**trades[-12], "a": 5_000_000, "p": "99999.00000000", "q": "0.50000000",
            "T": trades[-12]["T"] + 1000, "E": trades[-12]["E"] + 60_000}
    seed(settings, ns, "binance_agg_trades",
         [rec.bronze_trade_row(late, fetched + timedelta(hours=1), 20_000)])
    # incremental runs (no --from/--to): only what changed since the last run is recomputed
    late_run = run(settings, "silver.trades", ns, incremental_slack_minutes=0)
    assert late_run.rows_out == 1 and late_run.details["bronze_rows"] == 1
    # Bronze is read from the snapshot the last run recorded, not by ingested_at less a slack
    # (the late trade is stamped an hour after the rest, but the first rows were stamped now too)
    (how,) = late_run.details["changed_by"].values()
    assert how.startswith("snapshots after "), late_run.details
    updated = run(settings, "silver.ohlcv_1m", ns, incremental_slack_minutes=0)
    assert updated.rows_out == 1
    # the changed input: the late trade's instant (the job recomputes its whole minute)
    assert updated.details["window"].startswith("[2024-11-30T23:27:01+00:00, 2024-11-30T23:27:01")
    nothing = run(settings, "silver.ohlcv_1m", ns, incremental_slack_minutes=0)
    assert nothing.rows_out == 0 and nothing.details["window"] == "no input changed"
    # and an explicit window recomputes what it covers: same rows
    assert run(settings, "silver.ohlcv_1m", ns, start=T0 - timedelta(minutes=40),
               end=T0).rows_out == 0
    after = table(settings, silver(ns, "ohlcv_1m"), ["symbol", "open_time"])
    changed = after.compare(candles.drop(columns=[]))
    assert set(changed.index) == {27}
    assert after.loc[27, "high"] == 99999.0
    assert after.loc[27, "volume"] == pytest.approx(float(klines[27].volume) + 0.5, rel=1e-12)

    # silver.ohlcv_1h: no 1h klines here, so rolled up from the 30 minutes
    hourly = rerun_changes_nothing(settings, ns, "silver.ohlcv_1h", "ohlcv_1h",
                                   ["symbol", "open_time"])
    assert len(hourly) == 1 and hourly.loc[0, "source"] == "1m"
    assert hourly.loc[0, "high"] == max(after["high"])
    assert hourly.loc[0, "volume"] == pytest.approx(after["volume"].sum(), rel=1e-12)

    # silver.vwap against pandas on the same trades (the late one included)
    vwap = rerun_changes_nothing(settings, ns, "silver.vwap", "vwap",
                                 ["symbol", "window_start"])
    expected = pandas_vwap([*trades, late], minutes=5, slide=1)
    assert len(vwap) == len(expected)
    assert vwap["window_start"].tolist() == expected["window_start"].tolist()
    np.testing.assert_allclose(vwap["vwap"], expected["vwap"], rtol=1e-12)
    np.testing.assert_allclose(vwap["volume"], expected["volume"], rtol=1e-12)
    assert vwap["trade_count"].tolist() == expected["trade_count"].tolist()

    # changes on two days ten days apart: an incremental run recomputes those two minutes, not
    # the ten days between them (one range per changed day)
    old = {**trades[0], "a": 6_000_000, "T": trades[0]["T"] - 10 * 86_400_000,
           "E": trades[0]["E"] - 10 * 86_400_000}
    again = {**trades[10], "a": 6_000_001, "p": "1.00000000", "T": trades[10]["T"] + 1}
    seed(settings, ns, "binance_agg_trades",
         [rec.bronze_trade_row(t, fetched + timedelta(hours=2), 30_000 + i)
          for i, t in enumerate((old, again))])
    assert run(settings, "silver.trades", ns, incremental_slack_minutes=0).rows_out == 2
    spread = run(settings, "silver.ohlcv_1m", ns, incremental_slack_minutes=0)
    assert spread.details["window"].startswith("2 ranges within [2024-11-20T23:00:"), spread.details
    assert spread.rows_in == 2 and spread.rows_out == 2  # one new candle, one changed low
    assert len(table(settings, silver(ns, "ohlcv_1m"), ["symbol", "open_time"])) == 31


def pandas_vwap(trades: list[dict[str, Any]], minutes: int, slide: int) -> pd.DataFrame:
    df = pd.DataFrame({
        "t": pd.to_datetime([t["T"] for t in trades], unit="ms", utc=True),
        "p": [float(t["p"]) for t in trades], "q": [float(t["q"]) for t in trades],
        "n": [t["l"] - t["f"] + 1 for t in trades],
    })
    first = df["t"].min().floor(f"{slide}min") - pd.Timedelta(minutes=minutes - slide)
    out = []
    start = first
    while start <= df["t"].max():
        w = df[(df["t"] >= start) & (df["t"] < start + pd.Timedelta(minutes=minutes))]
        if len(w):
            out.append({"window_start": start, "vwap": (w.p * w.q).sum() / w.q.sum(),
                        "volume": w.q.sum(), "trade_count": int(w.n.sum())})
        start += pd.Timedelta(minutes=slide)
    return pd.DataFrame(out)


@pytest.mark.timeout(900)
def test_hourly_klines_and_anomalies_match_pandas(lakehouse_settings: Settings,
                                                  lakehouse_namespace: str) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    fetched = datetime(2024, 1, 1, tzinfo=UTC)
    # 2021-04-10 .. ~05-01, BTC and ETH, across the real 2021-04-20 and 04-25 outages
    start = datetime(2021, 4, 10, tzinfo=UTC)
    rows = []
    for symbol in ("BTCUSDT", "ETHUSDT"):
        for i, k in enumerate(rec.klines_1h(symbol, limit=500, start=start)):
            rows.append(rec.bronze_kline_row(k.event(), fetched, i))
    seed(settings, ns, "binance_klines", rows)

    hourly = rerun_changes_nothing(settings, ns, "silver.ohlcv_1h", "ohlcv_1h",
                                   ["symbol", "open_time"])
    assert len(hourly) == 1000 and set(hourly["source"]) == {"klines"}

    cfg: dict[str, Any] = {"intervals": ["1h"], "window_size": 24, "threshold": 3.0}
    anomalies = rerun_changes_nothing(settings, ns, "silver.anomalies", "anomalies",
                                      ["symbol", "open_time"], **cfg)
    expected = pandas_anomalies(hourly, window=24, threshold=3.0)
    assert len(expected) > 5  # the recorded month has real shocks
    assert anomalies["open_time"].tolist() == expected["open_time"].tolist()
    assert anomalies["symbol"].tolist() == expected["symbol"].tolist()
    np.testing.assert_allclose(anomalies["return"], expected["ret"], rtol=1e-9)
    np.testing.assert_allclose(anomalies["zscore"], expected["z"], rtol=1e-9)
    assert set(anomalies["window_size"]) == {24} and set(anomalies["threshold"]) == {3.0}

    # a window run recomputes only its range: same rows
    again = run(settings, "silver.anomalies", ns, start=start + timedelta(days=5),
                end=start + timedelta(days=8), **cfg)
    assert again.rows_out == 0


def pandas_anomalies(candles: pd.DataFrame, window: int, threshold: float) -> pd.DataFrame:
    out = []
    for symbol, g in candles.groupby("symbol"):
        g = g.sort_values("open_time").reset_index(drop=True)
        contiguous = g["open_time"].diff() == pd.Timedelta(hours=1)
        ret = np.log(g["close"] / g["close"].shift(1)).where(contiguous)
        mean = ret.rolling(window, min_periods=window).mean().shift(1)
        std = ret.rolling(window, min_periods=window).std(ddof=1).shift(1)
        z = (ret - mean) / std
        hit = z.abs() > threshold
        out.append(pd.DataFrame({"symbol": symbol, "open_time": g["open_time"][hit],
                                 "ret": ret[hit], "z": z[hit]}))
    return pd.concat(out).sort_values(["symbol", "open_time"]).reset_index(drop=True)


@pytest.mark.timeout(900)
def test_market_daily_and_fear_greed_one_row_per_day(lakehouse_settings: Settings,
                                                     lakehouse_namespace: str,
                                                     silver_ns: str) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    NS[ns] = silver_ns
    fetched = datetime(2023, 10, 26, tzinfo=UTC)
    chart = json.loads(rec.data_file("coingecko/market_chart_5y_daily/bitcoin.json").read_text())
    points = list(zip(chart["prices"], chart["market_caps"], chart["total_volumes"],
                      strict=True))[-40:]  # the last 40 points: daily ones + the intraday "now"
    rows = []
    for i, ((ms, price), (_, cap), (_, vol)) in enumerate(points):
        payload = json.dumps([ms, price])
        rows.append({"coin_id": "bitcoin", "vs_currency": "usd", "granularity": "daily",
                     "ts": datetime.fromtimestamp(ms / 1000, UTC), "price": price,
                     "market_cap": cap, "total_volume": vol, "source": "test", "layout": "t",
                     "origin": f"t:{i}", "ingested_at": fetched, "payload": payload,
                     "payload_sha256": f"{i:064x}"})
    # a second fetch of the same points, and one coin nobody mapped to a symbol
    rows += [{**r, "ingested_at": fetched + timedelta(days=1)} for r in rows[-3:]]
    rows.append({**rows[0], "coin_id": "notacoin"})
    seed(settings, ns, "coingecko_market_chart", rows)
    result = run(settings, "silver.market_daily", ns)
    assert result.details["unmapped_coins"] == ["notacoin"]
    daily = rerun_changes_nothing(settings, ns, "silver.market_daily", "market_daily",
                                  ["coin_id", "date"], first=result)
    days = sorted({datetime.fromtimestamp(ms / 1000, UTC).date() for (ms, _), _, _ in points})
    assert daily["date"].tolist() == days
    assert set(daily["symbol"]) == {"BTCUSDT"}
    first_of_day: dict[Any, Any] = {}
    for (ms, price), _, _ in points:
        first_of_day.setdefault(datetime.fromtimestamp(ms / 1000, UTC).date(), price)
    assert daily["price"].tolist() == [first_of_day[d] for d in days]

    fng = json.loads(rec.data_file("feargreed/fear_greed.json").read_text())["data"][:60]
    fg_rows = []
    for i, p in enumerate(fng):
        fg_rows.append({"ts": datetime.fromtimestamp(int(p["timestamp"]), UTC),
                        "value": int(p["value"]), "value_classification": p["value_classification"],
                        "time_until_update": None, "source": "test", "layout": "fng",
                        "origin": f"t:{i}", "ingested_at": fetched, "payload": json.dumps(p),
                        "payload_sha256": f"{i:064x}"})
    # the provisional latest value was fetched again later with a new value: the later one wins
    fg_rows.append({**fg_rows[0], "value": 99, "value_classification": "Extreme Greed",
                    "ingested_at": fetched + timedelta(hours=6), "payload_sha256": "f" * 64})
    seed(settings, ns, "fear_greed", fg_rows)
    fg = rerun_changes_nothing(settings, ns, "silver.fear_greed", "fear_greed", ["date"])
    assert len(fg) == 60 and fg["date"].is_unique
    newest = fg.iloc[-1]
    assert (newest["value"], newest["classification"]) == (99, "Extreme Greed")
    expected = {datetime.fromtimestamp(int(p["timestamp"]), UTC).date(): int(p["value"])
                for p in fng[1:]}
    assert {r.date: r.value for r in fg.iloc[:-1].itertuples()} == expected
