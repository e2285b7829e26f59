"""Prometheus metrics of the long-lived Bronze stream process.

Served on ``/metrics`` at ``StreamConfig.metrics_port`` (``CRYPTOLAKE_STREAM__METRICS_PORT``,
default 19103; 0 turns it off). The stream is one process, so it serves its own default registry
(a ``PROMETHEUS_MULTIPROC_DIR`` inherited from the worker that restarted it is dropped first).

=================================================  ===========================================
series                                             labels
=================================================  ===========================================
``cryptolake_stream_records_in_total``             stream, topic (Kafka records read)
``cryptolake_stream_records_out_total``            stream, table (rows committed to Bronze)
``cryptolake_stream_records_rejected_total``       stream, table (rows sent to bronze.rejects)
``cryptolake_stream_batches_total``                stream
``cryptolake_stream_batch_duration_seconds``       stream (histogram: one micro-batch, commits
                                                   included)
``cryptolake_stream_freshness_seconds``            stream, table (gauge: at the last commit, the
                                                   age of its oldest record since produce)
``cryptolake_stream_record_age_seconds``           stream, table (histogram of that age, per
                                                   batch)
``cryptolake_stream_kafka_lag_records``            stream, topic (gauge: latest offset minus the
                                                   offset the query has read up to)

Topics are named without the configured prefix, tables as ``namespace.table``.
``cryptolake_stream_compactions_total``            stream, table, outcome
``cryptolake_stream_data_files``                   stream, table (gauge: after compaction)
``cryptolake_stream_max_files_per_partition``      stream, table (gauge: after compaction)
=================================================  ===========================================
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

_BATCH_BUCKETS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300)
_AGE_BUCKETS = (1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120, 300, 600)


class StreamMetrics:
    """The stream's series, labelled with its name; created once per process."""

    def __init__(self, stream: str, topic_prefix: str = "") -> None:
        # a stream restarted by the worker inherits the worker's multiprocess directory:
        # this process serves its own registry instead
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from prometheus_client import Counter, Gauge, Histogram

        self.stream, self.prefix = stream, topic_prefix
        self.records_in = Counter("cryptolake_stream_records_in", "Kafka records read by the "
                                  "stream", ["stream", "topic"])
        self.records_out = Counter("cryptolake_stream_records_out", "Rows committed to Bronze "
                                   "by the stream", ["stream", "table"])
        self.rejected = Counter("cryptolake_stream_records_rejected", "Records the stream sent "
                                "to bronze.rejects", ["stream", "table"])
        self.batches = Counter("cryptolake_stream_batches", "Micro-batches run", ["stream"])
        self.batch_duration = Histogram(
            "cryptolake_stream_batch_duration_seconds", "Wall time of one micro-batch",
            ["stream"], buckets=_BATCH_BUCKETS,
        )
        self.freshness = Gauge(
            "cryptolake_stream_freshness_seconds", "At the last commit: age of its oldest "
            "record since it was produced to Kafka", ["stream", "table"],
        )
        self.age = Histogram(
            "cryptolake_stream_record_age_seconds", "Per batch and table: age of the oldest "
            "record at commit", ["stream", "table"], buckets=_AGE_BUCKETS,
        )
        self.lag = Gauge("cryptolake_stream_kafka_lag_records", "Latest Kafka offset minus the "
                         "offset read, summed over partitions", ["stream", "topic"])
        self.compactions = Counter("cryptolake_stream_compactions", "Compactions of Bronze "
                                   "tables by the stream", ["stream", "table", "outcome"])
        self.data_files = Gauge("cryptolake_stream_data_files", "Data files of the table after "
                                "the last compaction", ["stream", "table"])
        self.files_per_partition = Gauge(
            "cryptolake_stream_max_files_per_partition", "Most data files in one partition "
            "after the last compaction", ["stream", "table"],
        )

    def batch(self, duration_s: float, topics: dict[str, int], written: dict[str, int],
              rejected: dict[str, int], ages: dict[str, float]) -> None:
        s = self.stream
        self.batches.labels(s).inc()
        self.batch_duration.labels(s).observe(duration_s)
        for topic, n in topics.items():
            self.records_in.labels(s, topic).inc(n)
        for table, n in written.items():
            self.records_out.labels(s, table).inc(n)
        for table, n in rejected.items():
            self.rejected.labels(s, table).inc(n)
        for table, age in ages.items():
            self.freshness.labels(s, table).set(age)
            self.age.labels(s, table).observe(age)

    def progress(self, progress: Any) -> None:
        """Kafka lag per topic from a query's ``lastProgress`` (its sources' offsets)."""
        if progress is None:
            return
        raw = progress.json if hasattr(progress, "json") else progress
        data = json.loads(raw() if callable(raw) else raw) if not isinstance(raw, dict) else raw
        for source in data.get("sources") or []:
            for topic, lag in kafka_lag(source.get("endOffset"), source.get("latestOffset")).items():
                self.lag.labels(self.stream, topic.removeprefix(self.prefix)).set(lag)

    def compacted(self, table: str, outcome: str, files: int | None = None,
                  max_per_partition: int | None = None) -> None:
        self.compactions.labels(self.stream, table, outcome).inc()
        if files is not None:
            self.data_files.labels(self.stream, table).set(files)
        if max_per_partition is not None:
            self.files_per_partition.labels(self.stream, table).set(max_per_partition)


def _offsets(value: Any) -> dict[str, dict[str, int]]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(t): {str(p): int(o) for p, o in parts.items()} for t, parts in value.items()
            if isinstance(parts, dict)}


def kafka_lag(end: Any, latest: Any) -> dict[str, int]:
    """Per topic: the sum over partitions of ``latest - end`` (Spark's Kafka source offsets)."""
    read, newest = _offsets(end), _offsets(latest)
    return {topic: sum(max(0, o - read.get(topic, {}).get(p, 0)) for p, o in parts.items())
            for topic, parts in newest.items()}
