"""The supervised stream job serves Prometheus /metrics, and its series move with what it does.

Records produced to private topics go through the real stream process (Spark, Kafka, Iceberg);
its /metrics is scraped before and after: records in per topic, out per table, rejected, batches
and their duration, the freshness of the last commit, Kafka lag back to zero, and the stream's
own compaction of its tables. (The worker's and beat's endpoints: tests/integration/
test_workers.py; the API's: tests/e2e/test_api_metrics.py.)
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from _wait import wait_for

from cryptolake.core.clients import ensure_topics, producer_config
from cryptolake.core.settings import Settings
from cryptolake.processing.spark import start_stream, stop_stream, stream_status
from cryptolake.processing.spark import testing as rec
from cryptolake.processing.spark.stream import StreamConfig

pytestmark = pytest.mark.integration

TRADES, KLINES = "binance.aggtrade", "binance.kline_1m"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    except OSError:
        return {}
    out = {}
    for line in text.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def produce(settings: Settings, messages: list[tuple[str, Any]]) -> None:
    from confluent_kafka import Producer

    producer = Producer(producer_config(settings))
    for topic, value in messages:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        producer.produce(settings.kafka.topic_prefix + topic, key=b"BTCUSDT", value=body)
    assert producer.flush(30) == 0


@pytest.mark.timeout(2400)  # Spark's start and first batch on a loaded 2-core machine
def test_the_stream_job_serves_moving_series(
    lakehouse_settings: Settings, lakehouse_namespace: str, tmp_path: Path
) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    ensure_topics([settings.kafka.topic_prefix + t for t in (TRADES, KLINES)], settings)
    port = _free_port()
    config = StreamConfig(name=f"m{ns[-10:]}", trigger_seconds=2, bronze_namespace=ns,
                          topics=[TRADES, KLINES], checkpoint_dir=tmp_path / "checkpoint",
                          metrics_port=port, compact_interval_s=5, compact_min_files=2)
    klines = rec.klines_1m(limit=12)
    s = f'stream="{config.name}"'
    out_klines = f'cryptolake_stream_records_out_total{{{s},table="{ns}.binance_klines"}}'
    try:
        start_stream(config, settings, wait_running=300)
        first = wait_for("the stream's /metrics", lambda: scrape(port), timeout=600)
        assert stream_status(config.name, settings).details.get("metrics_port") == port
        assert out_klines not in first  # nothing written yet

        produce(settings, [(KLINES, k.event()) for k in klines[:6]]
                + [(TRADES, b'{"e":"aggTrade","s":"BTCUSDT","a":"oops"')])
        wait_for("6 klines counted out", lambda: scrape(port).get(out_klines) == 6, timeout=900)
        produce(settings, [(KLINES, k.event()) for k in klines[6:]])
        wait_for("12 klines counted out", lambda: scrape(port).get(out_klines) == 12, timeout=900)

        lag = f'cryptolake_stream_kafka_lag_records{{{s},topic="{KLINES}"}}'
        m = wait_for("the Kafka lag back at 0", lambda: (lambda m: m if m.get(lag) == 0 else None)(
            scrape(port)), timeout=300)
        # the stream compacts what it wrote since: the 12 klines (one day) end in one file
        # (the exposition format sorts the labels by name)
        compacted = (f'cryptolake_stream_compactions_total{{outcome="succeeded",{s},'
                     f'table="{ns}.binance_klines"}}')
        one_file = f'cryptolake_stream_data_files{{{s},table="{ns}.binance_klines"}}'
        m = wait_for("a compaction of the klines table", lambda: (
            lambda m: m if m.get(compacted, 0) >= 1 and m.get(one_file) == 1 else None)(
            scrape(port)), timeout=600)
    finally:
        stop_stream(config.name, settings, timeout=60)

    assert m[f'cryptolake_stream_records_in_total{{{s},topic="{KLINES}"}}'] == 12
    assert m[f'cryptolake_stream_records_in_total{{{s},topic="{TRADES}"}}'] == 1
    assert m[f'cryptolake_stream_records_rejected_total{{{s},table="{ns}.rejects"}}'] == 1
    batches = m[f"cryptolake_stream_batches_total{{{s}}}"]
    assert batches >= 2
    assert m[f"cryptolake_stream_batch_duration_seconds_count{{{s}}}"] == batches
    assert m[f"cryptolake_stream_batch_duration_seconds_sum{{{s}}}"] > 0
    table = f'{s},table="{ns}.binance_klines"'
    assert m[f"cryptolake_stream_freshness_seconds{{{table}}}"] > 0
    assert m[f"cryptolake_stream_record_age_seconds_count{{{table}}}"] >= 2
    assert m[f"cryptolake_stream_max_files_per_partition{{{table}}}"] == 1
