"""Sources against the real stack: nothing acknowledged is lost or doubled, input → Kafka → Bronze.

Only Binance, CoinGecko and Alternative.me are stood in (tests/standins); Kafka, PostgreSQL, S3
and Iceberg are the real services of the running stack.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from standins import BinanceStandin, CoinGeckoStandin, Fault, FearGreedStandin, Session
from standins.binance import FIRST_AGG_ID

from cryptolake.core import JobContext, JobResult, Settings, build_plugin_manager, run_job
from cryptolake.core.clients import load_catalog
from cryptolake.ingest.binance import plugin as binance_plugin
from cryptolake.ingest.binance.jobs import watermarks
from cryptolake.ingest.coingecko import plugin as coingecko_plugin
from cryptolake.ingest.feargreed import plugin as feargreed_plugin
from cryptolake.ingest.replay import plugin as replay_plugin

pytestmark = pytest.mark.integration

#: the built-in plugins, registered explicitly (the tests need not run from an installed package)
BUILTINS = [binance_plugin, coingecko_plugin, feargreed_plugin, replay_plugin]


def run(settings: Settings, source: str, config: dict[str, Any], **ctx_kw: Any) -> JobResult:
    host = build_plugin_manager(settings, autoload=False, strict=True, plugins=BUILTINS)
    entry = host.sources.get(source)
    job = entry.load()(entry.configure(config))
    ctx = JobContext(kind="ingest", name=source, settings=settings, host=host, **ctx_kw)
    return run_job(ctx, job.run)


def table_rows(settings: Settings, ident: str) -> Any:
    return load_catalog(settings).load_table(ident).scan().to_arrow()


def topic_counts(settings: Settings) -> dict[str, int]:
    from confluent_kafka import Consumer, TopicPartition

    from cryptolake.core.clients import consumer_config

    c = Consumer(consumer_config("count", settings))
    try:
        prefix = settings.kafka.topic_prefix
        out = {}
        for t in c.list_topics(timeout=10).topics:
            if t.startswith(prefix):
                lo, hi = watermarks(c, TopicPartition(t, 0))
                out[t[len(prefix) :]] = hi - lo
        return out
    finally:
        c.close()


def test_replay_of_the_sample_reaches_kafka_and_bronze_once(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    s, ns = lakehouse_settings, lakehouse_namespace
    cfg = {"namespace": ns, "drain_to_bronze": True, "sink_group_id": f"{ns}-sink"}
    first = run(s, "replay.recorded", cfg)
    files = first.details["files"]
    # input: what the parsers read from the recorded files
    expected_klines = sum(
        f.get("records", 0)
        for f in files.values()
        if f["layout"] and f["layout"].startswith(("binance_kline", "binance_rest", "cdd_"))
    )
    assert first.rejected == 0
    assert expected_klines == 7 * 671 + 671 + 101 + 2880 + 7 * 28
    # Kafka: every Binance record acknowledged once
    counts = topic_counts(s)
    assert counts == {
        "binance.kline_1h": 7 * 671 + 671 + 101,
        "binance.kline_1m": 2880 + 2,
        "binance.kline_1d": 7 * 28,
        "binance.aggtrade": 2,
    }
    # Bronze: every record once, with its Kafka coordinates
    klines = table_rows(s, f"{ns}.binance_klines")
    assert klines.num_rows == expected_klines + 2
    offsets = Counter(
        zip(
            klines.column("kafka_topic").to_pylist(),
            klines.column("kafka_offset").to_pylist(),
            strict=True,
        )
    )
    assert max(offsets.values()) == 1
    assert table_rows(s, f"{ns}.binance_agg_trades").num_rows == 2
    assert table_rows(s, f"{ns}.fear_greed").num_rows == 28
    assert table_rows(s, f"{ns}.coingecko_market_chart").num_rows == 5 * 28 + 169
    assert table_rows(s, f"{ns}.coingecko_markets").num_rows == 100
    btc = {
        i
        for sym, i in zip(
            klines.column("symbol").to_pylist(), klines.column("interval").to_pylist(), strict=True
        )
        if sym == "BTCUSDT"
    }
    assert btc == {"1m", "1h", "1d"}

    # a rerun over the same input adds nothing to Bronze
    again = run(s, "replay.recorded", cfg)
    assert again.details["bronze_sink"]["written"] == 0
    assert all(t["written"] == 0 for t in again.details["bronze"].values())
    assert table_rows(s, f"{ns}.binance_klines").num_rows == expected_klines + 2


def test_live_websocket_gap_is_backfilled_into_kafka_and_bronze(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    s, ns = lakehouse_settings, lakehouse_namespace
    with BinanceStandin([Session(0, 40), Session(52)]) as server:
        live = run(
            s,
            "binance.live",
            {
                "symbols": ["BTCUSDT"],
                "ws_url": server.ws_url,
                "rest_url": server.rest_url,
                "max_messages": 40 + 150 - 52,
                "max_seconds": 300,
                "reconnect_initial_s": 0.05,
                "namespace": ns,
            },
        )
    assert live.details["gaps_found"] == 2 and live.details["gaps_filled"] == 2
    assert topic_counts(s) == {"binance.aggtrade": 120, "binance.kline_1m": 30}
    sink = run(
        s, "binance.bronze_sink", {"namespace": ns, "group_id": f"{ns}-g", "idle_timeout_s": 2}
    )
    assert sink.rows_out == 150
    trades = table_rows(s, f"{ns}.binance_agg_trades")
    assert sorted(trades.column("agg_trade_id").to_pylist()) == list(
        range(FIRST_AGG_ID, FIRST_AGG_ID + 120)
    )
    layouts = Counter(trades.column("layout").to_pylist())
    assert layouts == {"binance_ws": 110, "binance_rest": 10}


def test_a_gap_beyond_the_backfill_limits_is_an_alert_in_ops_alerts(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    s, ns = lakehouse_settings, lakehouse_namespace
    with BinanceStandin([Session(0, 40), Session(52)]) as server:
        live = run(
            s,
            "binance.live",
            {
                "symbols": ["BTCUSDT"],
                "ws_url": server.ws_url,
                "rest_url": server.rest_url,
                "max_messages": 40 + 150 - 52,
                "max_seconds": 300,
                "reconnect_initial_s": 0.05,
                "max_backfill_trades": 5,
                "namespace": ns,
                "ops_namespace": ns,
            },
        )
    assert live.details["gaps_unfilled"] == 1 and live.details["gaps_filled"] == 1
    (gap,) = (g for g in live.details["gaps"] if "unfilled" in g)
    alerts = table_rows(s, f"{ns}.alerts").to_pylist()
    assert [(a["kind"], a["subject"], a["run_id"] is not None) for a in alerts] == [
        ("stream_gap_unfilled", "BTCUSDT aggTrade", True)
    ]
    assert alerts[0]["message"] == gap["unfilled"] and "max_backfill_trades=5" in gap["unfilled"]


def test_coingecko_and_fear_greed_through_faults_then_incremental_reruns(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    s, ns = lakehouse_settings, lakehouse_namespace
    with CoinGeckoStandin() as cg, FearGreedStandin() as fng:
        cg.fail("/api/v3/coins/", Fault(429, retry_after=0.2), Fault(502), Fault("truncated"))
        cg.fail("/api/v3/coins/markets", *[Fault("malformed")] * 4)
        cfg = {
            "base_url": cg.url + "/api/v3",
            "coins": ["bitcoin", "ethereum"],
            "namespace": ns,
            "backoff_base_s": 0.01,
            "max_retries": 3,
        }
        chart = run(s, "coingecko.market_chart", cfg)
        markets = run(s, "coingecko.markets", cfg)
        fg = run(s, "feargreed.index", {"base_url": fng.url, "namespace": ns})
        fg_again = run(s, "feargreed.index", {"base_url": fng.url, "namespace": ns})
        chart_again = run(s, "coingecko.market_chart", cfg)
        markets_ok = run(s, "coingecko.markets", cfg)
    # daily: 28 points per coin; hourly: the recorded 169 hourly bitcoin points
    assert chart.rows_out == 2 * 28 + 169 and chart.details["rest"]["rate_limited"] == 1
    assert markets.rows_out == 0 and markets.rejected == 1  # dead-lettered, job went on
    rejects = table_rows(s, f"{ns}.rejects")
    assert rejects.num_rows == 1 and "not JSON" in rejects.column("reason")[0].as_py()
    assert fg.rows_out == 28 and fg.details["limit"] == 0  # full history first
    assert fg_again.rows_out == 0 and fg_again.details["limit"] > 0  # then incremental
    assert chart_again.rows_out == 0  # nothing doubled
    assert markets_ok.rows_out == 2
    assert table_rows(s, f"{ns}.coingecko_market_chart").num_rows == 2 * 28 + 169
    assert table_rows(s, f"{ns}.fear_greed").num_rows == 28


def test_rest_kline_backfill_for_a_window_then_incremental(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    from datetime import UTC, datetime

    s, ns = lakehouse_settings, lakehouse_namespace
    start, end = (
        datetime(2024, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2024, 11, 30, 23, 20, tzinfo=UTC),
    )
    with BinanceStandin() as server:
        server.rest.fail("/api/v3/klines", Fault(429, retry_after=0.1), Fault(500))
        cfg = {
            "symbols": ["BTCUSDT"],
            "intervals": ["1m"],
            "rest_url": server.rest_url,
            "namespace": ns,
            "backoff_base_s": 0.01,
            "page_limit": 7,
        }
        first = run(s, "binance.klines", cfg, start=start, end=end)
        again = run(s, "binance.klines", cfg, start=start, end=end)
        incremental = run(s, "binance.klines", cfg)  # from the newest stored bar to now
    assert first.rows_out == 20 and first.details["rest"]["rate_limited"] == 1
    assert (
        again.rows_out == 0
        and again.details["bronze"][f"{ns}.binance_klines"]["already_stored"] == 20
    )
    assert incremental.rows_out == 10  # the rest of the 30 recorded bars, nothing twice
    rows = table_rows(s, f"{ns}.binance_klines")
    times = sorted(rows.column("open_time").to_pylist())
    assert len(times) == 30 and len(set(times)) == 30
    assert set(rows.column("is_closed").to_pylist()) == {True}
    assert set(rows.column("layout").to_pylist()) == {"binance_rest"}


def test_bad_input_is_dead_lettered_with_reasons_and_ingestion_goes_on(
    lakehouse_settings: Settings, lakehouse_namespace: str, tmp_path: Any
) -> None:
    import gzip
    import shutil

    from cryptolake.ingest.replay.config import SAMPLE_DIR

    s, ns = lakehouse_settings, lakehouse_namespace
    data = tmp_path / "recorded"
    (data / "binance/klines_1h").mkdir(parents=True)
    lines = gzip.decompress(
        (SAMPLE_DIR / "binance/klines_1h/ETHUSDT_1h.csv.gz").read_bytes()
    ).splitlines(keepends=True)[:25]
    lines[3] = lines[3].replace(b",", b",-", 2)  # a negative price
    lines[7] = b"2023-03-01 06:00:00,1,2\n"  # fields missing
    lines[11] = lines[11].replace(b"2023-03-01", b"2099-03-01")  # a time in the future
    (data / "binance/klines_1h/ETHUSDT_1h.csv").write_bytes(b"".join(lines))
    (data / "feargreed").mkdir()
    (data / "feargreed/fear_greed.json").write_bytes(b'{"name": "Fear and Greed Index", "data": [')
    shutil.copy(SAMPLE_DIR / "coingecko/market_chart_5y_daily/ripple.json", data / "ripple.json")
    (data / "notes.txt").write_text("not market data\n")
    result = run(
        s,
        "replay.recorded",
        {
            "data_dir": str(data),
            "namespace": ns,
            "drain_to_bronze": True,
            "sink_group_id": f"{ns}-g",
        },
    )
    rejects = table_rows(s, f"{ns}.rejects").to_pylist()
    by_origin = {r["origin"]: r["reason"] for r in rejects}
    assert result.rejected == len(rejects) == 5
    assert "'k.o' must be positive" in by_origin["ETHUSDT_1h.csv:4"]
    assert "expected 7 comma-separated fields as in the header, got 3" in by_origin["ETHUSDT_1h.csv:8"]
    assert "in the future" in by_origin["ETHUSDT_1h.csv:12"]
    assert by_origin["fear_greed.json"].startswith("unparsable JSON")
    assert by_origin["notes.txt"].startswith("unknown layout")
    assert all(r["source"] == "replay.recorded" and r["raw"] for r in rejects)
    # everything else went through: 24 data lines - 3 bad, and the 28 ripple points
    assert table_rows(s, f"{ns}.binance_klines").num_rows == 21
    assert table_rows(s, f"{ns}.coingecko_market_chart").num_rows == 28
    # no default-valued rows: every stored kline has its prices
    klines = table_rows(s, f"{ns}.binance_klines")
    assert None not in klines.column("open").to_pylist()


def test_a_gap_across_a_restart_is_found_from_kafka_and_backfilled(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    s, ns = lakehouse_settings, lakehouse_namespace
    base = {"symbols": ["BTCUSDT"], "max_seconds": 300, "namespace": ns}
    with BinanceStandin([Session(0)]) as server:  # the first process stops after 40 records
        first = run(
            s,
            "binance.live",
            {**base, "ws_url": server.ws_url, "rest_url": server.rest_url, "max_messages": 40},
        )
    assert first.details["gaps_found"] == 0 and first.details["resumed_from_kafka"] == 0
    with BinanceStandin([Session(60)]) as server:  # the restarted one joins 20 frames later
        second = run(
            s,
            "binance.live",
            {**base, "ws_url": server.ws_url, "rest_url": server.rest_url, "max_messages": 90},
        )
    assert second.details["resumed_from_kafka"] == 40
    assert second.details["gaps_found"] == 2 and second.details["gaps_filled"] == 2
    assert second.details["backfilled"] == 16 + 4
    assert topic_counts(s) == {"binance.aggtrade": 120, "binance.kline_1m": 30}
    run(s, "binance.bronze_sink", {"namespace": ns, "group_id": f"{ns}-g", "idle_timeout_s": 2})
    ids = table_rows(s, f"{ns}.binance_agg_trades").column("agg_trade_id").to_pylist()
    assert sorted(ids) == list(range(FIRST_AGG_ID, FIRST_AGG_ID + 120))
