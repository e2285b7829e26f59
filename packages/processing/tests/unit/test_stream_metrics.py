"""The stream job's Prometheus series: what one batch, one progress report and one compaction set."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("prometheus_client")

from cryptolake.processing.spark._stream_metrics import StreamMetrics, kafka_lag  # noqa: E402


def _value(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(name, labels)
    assert value is not None, f"{name}{labels} not exported"
    return value


def test_kafka_lag_sums_partitions_per_topic() -> None:
    end = {"p.binance.aggtrade": {"0": 10, "1": 7}, "p.binance.kline_1m": {"0": 3}}
    latest = json.dumps({"p.binance.aggtrade": {"0": 12, "1": 7}, "p.binance.kline_1m": {"0": 9},
                         "p.binance.kline_1h": {"0": 4}})
    assert kafka_lag(json.dumps(end), latest) == {
        "p.binance.aggtrade": 2, "p.binance.kline_1m": 6, "p.binance.kline_1h": 4,
    }
    assert kafka_lag(None, None) == {}
    assert kafka_lag("not json", latest)["p.binance.kline_1m"] == 9


def test_one_batch_progress_and_compaction_are_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/nonexistent")
    m = StreamMetrics("unit")
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # the stream serves its own registry
    m.batch(2.5, topics={"binance.kline_1m": 40}, written={"bronze.binance_klines": 38},
            rejected={"bronze.rejects": 2}, ages={"bronze.binance_klines": 6.5})
    m.batch(1.5, topics={"binance.kline_1m": 10}, written={"bronze.binance_klines": 10},
            rejected={"bronze.rejects": 0}, ages={"bronze.binance_klines": 4.0})
    m.progress({"sources": [{"endOffset": {"t": {"0": 5}}, "latestOffset": {"t": {"0": 9}}}]})
    m.compacted("bronze.binance_klines", "succeeded", files=3, max_per_partition=2)
    s, t = {"stream": "unit"}, {"stream": "unit", "table": "bronze.binance_klines"}
    assert _value("cryptolake_stream_batches_total", s) == 2
    assert _value("cryptolake_stream_batch_duration_seconds_sum", s) == 4.0
    assert _value("cryptolake_stream_records_in_total",
                  {"stream": "unit", "topic": "binance.kline_1m"}) == 50
    assert _value("cryptolake_stream_records_out_total", t) == 48
    assert _value("cryptolake_stream_records_rejected_total",
                  {"stream": "unit", "table": "bronze.rejects"}) == 2
    assert _value("cryptolake_stream_freshness_seconds", t) == 4.0  # the last batch's
    assert _value("cryptolake_stream_record_age_seconds_count", t) == 2
    assert _value("cryptolake_stream_kafka_lag_records", {"stream": "unit", "topic": "t"}) == 4
    assert _value("cryptolake_stream_compactions_total", {**t, "outcome": "succeeded"}) == 1
    assert _value("cryptolake_stream_max_files_per_partition", t) == 2
