"""Kafka → Bronze streaming on the real stack: killed after a commit, restarted, exactly once.

A recorded sequence (real BTCUSDT minutes as klines and aggregate trades) is produced with
duplicates (a reconnect replaying events), out-of-order and late events and one malformed record.
The supervised stream process is SIGKILLed right after its first Iceberg commits — before Spark
could mark the batch done — more records are produced, and the stream is restarted. Bronze must
then hold each distinct record exactly once with its Kafka partition and offset, the malformed
record must sit in ``bronze.rejects`` with its reason, Trino must see the rows, and the Silver jobs
must turn them into the exact trades and candles.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _wait import wait_for

from cryptolake.core import JobContext, build_plugin_manager, run_job
from cryptolake.core.clients import ensure_topics, load_catalog, producer_config, query
from cryptolake.core.settings import Settings
from cryptolake.core.testing.stack import drop_namespace
from cryptolake.processing.spark import kill_stream, start_stream, stop_stream, stream_status
from cryptolake.processing.spark import testing as rec
from cryptolake.processing.spark.stream import StreamConfig

pytestmark = pytest.mark.integration

TRADES, KLINES = "binance.aggtrade", "binance.kline_1m"


def produce(settings: Settings, messages: list[tuple[str, dict[str, Any] | bytes]]) -> None:
    from confluent_kafka import Producer

    producer = Producer(producer_config(settings))
    for topic, value in messages:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        producer.produce(settings.kafka.topic_prefix + topic, key=b"BTCUSDT", value=body,
                         headers=[("source", b"test.replay")])
    assert producer.flush(30) == 0


def bronze(settings: Settings, ident: str) -> pd.DataFrame:
    catalog = load_catalog(settings)
    if not catalog.table_exists(ident):
        return pd.DataFrame()
    return catalog.load_table(ident).scan().to_pandas()


def committed(name: str, settings: Settings) -> bool:
    status = stream_status(name, settings)
    assert status.state not in ("failed", "dead"), status.details.get("error")
    return status.details.get("phase") == "committed"


@pytest.fixture
def silver_ns(lakehouse_stack: Any, lakehouse_namespace: str) -> Iterator[str]:
    settings = lakehouse_stack.settings
    name = f"{lakehouse_namespace}_silver"
    load_catalog(settings).create_namespace(name)
    yield name
    drop_namespace(name, settings)


@pytest.mark.timeout(900)
def test_stream_survives_a_kill_after_commit_exactly_once(
    lakehouse_settings: Settings, lakehouse_namespace: str, silver_ns: str, tmp_path: Path
) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    prefix = settings.kafka.topic_prefix
    ensure_topics([prefix + TRADES, prefix + KLINES], settings, partitions=1)
    klines = rec.klines_1m(limit=20)
    trades = rec.trades_from_klines(klines)
    rnd = random.Random(7)

    # phase 1: minutes 0-9, shuffled within each minute pair, a replay of 6 trades, an open kline
    first = trades[:40]
    batch1: list[tuple[str, dict[str, Any] | bytes]] = [(TRADES, t) for t in first]
    rnd.shuffle(batch1)
    batch1 += [(TRADES, t) for t in first[10:16]]  # duplicates: same payloads again
    open_k = rec.Kline(**{**klines[0].__dict__, "is_closed": False})
    batch1.append((KLINES, open_k.event(klines[0].open_time + timedelta(seconds=30))))
    batch1 += [(KLINES, k.event()) for k in klines[:10]]
    batch1.append((TRADES, b'{"e":"aggTrade","s":"BTCUSDT","a":"oops"'))  # malformed JSON
    produce(settings, batch1)

    config = StreamConfig(name=f"t{ns[-10:]}", trigger_seconds=2, bronze_namespace=ns,
                          topics=[TRADES, KLINES], checkpoint_dir=tmp_path / "checkpoint",
                          pause_after_commit_s=60)
    try:
        start_stream(config, settings)
        # the first batch committed to Iceberg; Spark has not recorded it as done: crash now
        wait_for("the first commit", lambda: committed(config.name, settings), timeout=240)
        assert kill_stream(config.name, settings)
        assert not stream_status(config.name, settings).running
        assert len(bronze(settings, f"{ns}.binance_agg_trades")) == 40

        # phase 2, produced while the stream is down: the rest, a late trade for minute 1, and
        # a replay of phase-1 trades and klines
        late = {**trades[5], "a": 9_000_000, "p": "96000.00000000", "q": "0.25000000",
                "T": trades[5]["T"] + 500, "E": trades[-1]["E"] + 1000}
        batch2: list[tuple[str, dict[str, Any] | bytes]] = [(TRADES, t) for t in trades[40:]]
        rnd.shuffle(batch2)
        batch2 += [(KLINES, k.event()) for k in klines[10:]]
        batch2 += [(TRADES, late)] + [(TRADES, t) for t in trades[30:36]]
        batch2 += [(KLINES, k.event()) for k in klines[8:10]]
        produce(settings, batch2)

        start_stream(config.model_copy(update={"pause_after_commit_s": 0.0}), settings)
        wait_for("every record in Bronze", lambda: len(
            bronze(settings, f"{ns}.binance_agg_trades")) >= 81 and len(
            bronze(settings, f"{ns}.binance_klines")) >= 21, timeout=300, every=2)
        done = stream_status(config.name, settings).details.get("batches", 0)
        # two more micro-batches may run (nothing new is in Kafka): nothing else may arrive
        wait_for("the stream to idle", lambda: stream_status(config.name, settings).details.get(
            "phase") == "idle", timeout=120)
        del done
    finally:
        stop_stream(config.name, settings, timeout=60)
    assert not stream_status(config.name, settings).running

    # Bronze: every distinct record once, at the offset it was first produced
    agg = bronze(settings, f"{ns}.binance_agg_trades").sort_values("kafka_offset")
    expected_ids = sorted([t["a"] for t in trades] + [late["a"]])
    assert sorted(agg["agg_trade_id"]) == expected_ids
    assert not agg.duplicated(["symbol", "agg_trade_id", "payload_sha256"]).any()
    offsets: dict[Any, Any] = {}
    for offset, (_topic, value) in enumerate(m for m in batch1 + batch2 if m[0] == TRADES):
        if isinstance(value, dict):
            offsets.setdefault(value["a"], offset)
    assert dict(zip(agg["agg_trade_id"], agg["kafka_offset"], strict=True)) == offsets
    assert set(agg["kafka_partition"]) == {0} and set(agg["kafka_topic"]) == {prefix + TRADES}
    assert set(agg["source"]) == {"test.replay"}
    assert agg["price"].tolist()[0] in {t["p"] for t in trades}  # verbatim decimal strings

    kl = bronze(settings, f"{ns}.binance_klines")
    assert len(kl) == 21  # 20 closed + 1 open update; replays dropped
    assert kl["is_closed"].sum() == 20

    rejects = bronze(settings, f"{ns}.rejects")
    assert len(rejects) == 1
    assert rejects.iloc[0]["reason"] == "binance_ws: unparsable JSON"
    assert rejects.iloc[0]["raw"] == '{"e":"aggTrade","s":"BTCUSDT","a":"oops"'
    assert rejects.iloc[0]["kafka_topic"] == prefix + TRADES

    # Trino sees what Spark wrote
    count = query(f"SELECT count(*) FROM {ns}.binance_agg_trades", settings=settings)[0][0]
    assert count == 81

    # Silver from the streamed Bronze: exact trades and candles
    host = build_plugin_manager(settings, autoload=True, strict=True)
    for name in ("silver.trades", "silver.ohlcv_1m"):
        entry = host.transforms.get(name)
        job = entry.load()(entry.configure({"bronze_namespace": ns, "silver_namespace": silver_ns}))
        run_job(JobContext(kind="transform", name=name, settings=settings, host=host), job.run)
    silver_trades = load_catalog(settings).load_table(f"{silver_ns}.trades").scan().to_pandas()
    assert sorted(silver_trades["agg_trade_id"]) == expected_ids
    candles = (load_catalog(settings).load_table(f"{silver_ns}.ohlcv_1m").scan().to_pandas()
               .sort_values("open_time").reset_index(drop=True))
    assert len(candles) == 20 and set(candles["source"]) == {"trades+klines"}
    # the late trade (96000, 0.25 BTC) disagrees with minute 1's closed kline: flagged
    assert candles["kline_mismatch"].tolist() == [i == 1 for i in range(20)]
    assert [c for c in candles["close"]] == [float(k.close) for k in klines]


@pytest.mark.timeout(900)
def test_streaming_vwap_honours_the_watermark(
    lakehouse_settings: Settings, lakehouse_namespace: str, silver_ns: str, tmp_path: Path
) -> None:
    from test_spark_silver import pandas_vwap

    settings, ns = lakehouse_settings, lakehouse_namespace
    prefix = settings.kafka.topic_prefix
    ensure_topics([prefix + TRADES], settings, partitions=1)
    trades = rec.trades_from_klines(rec.klines_1m(limit=20))  # 23:00 .. 23:19:45
    produce(settings, [(TRADES, t) for t in trades] + [(TRADES, t) for t in trades[:8]])
    config = StreamConfig(name=f"v{ns[-10:]}", trigger_seconds=2, bronze_namespace=ns,
                          topics=[TRADES], checkpoint_dir=tmp_path / "checkpoint", vwap=True,
                          silver_namespace=silver_ns, vwap_watermark_minutes=10)
    target = f"{silver_ns}.vwap"

    def vwap_rows() -> pd.DataFrame:
        catalog = load_catalog(settings)
        if not catalog.table_exists(target):
            return pd.DataFrame()
        return catalog.load_table(target).scan().to_pandas()

    try:
        start_stream(config, settings)
        def caught_up(expected: pd.DataFrame) -> bool:
            got = vwap_rows()
            return len(got) == len(expected) and abs(
                got["volume"].sum() - expected["volume"].sum()) < 1e-6

        wait_for("the first VWAP windows", lambda: caught_up(pandas_vwap(trades, 5, 1)),
                 timeout=300, every=2)
        # one more batch so the watermark (max event time 23:19:50 - 10 min) applies to late rows
        tick = {**trades[-1], "a": 8_000_000, "q": "0.10000000", "T": trades[-1]["T"] + 5000}
        produce(settings, [(TRADES, tick)])
        wait_for("the next batch", lambda: caught_up(pandas_vwap([*trades, tick], 5, 1)),
                 timeout=180, every=2)
        # a trade at 23:12 is within the watermark and updates its windows; one at 23:02 is too
        # late for the stream (its windows closed; the batch job corrects them)
        within = {**trades[48], "a": 8_000_001, "q": "1.00000000", "T": trades[48]["T"] + 200}
        beyond = {**trades[8], "a": 8_000_002, "q": "1.00000000", "T": trades[8]["T"] + 200}
        produce(settings, [(TRADES, within), (TRADES, beyond)])
        expected = pandas_vwap([*trades, tick, within], minutes=5, slide=1)
        wait_for("the late trade in its windows", lambda: caught_up(expected), timeout=180,
                 every=2)
        time.sleep(2 * config.trigger_seconds + 2)
        assert caught_up(expected)  # the trade beyond the watermark changed nothing
    finally:
        stop_stream(config.name, settings, timeout=60)
    got = vwap_rows().sort_values("window_start").reset_index(drop=True)
    assert got["window_start"].tolist() == expected["window_start"].tolist()
    assert got["vwap"].tolist() == pytest.approx(expected["vwap"].tolist(), rel=1e-12)
    assert got["trade_count"].tolist() == expected["trade_count"].tolist()
