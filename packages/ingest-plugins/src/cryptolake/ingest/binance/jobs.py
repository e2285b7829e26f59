"""The Binance source jobs: ``binance.live``, ``binance.klines`` and ``binance.bronze_sink``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptolake.core import JobContext, JobResult
from cryptolake.ingest._job import Tally, alert_sink, open_writer
from cryptolake.ingest._records import Reject, dt_to_ms, now_ms
from cryptolake.ingest.binance import parse
from cryptolake.ingest.binance.client import (
    GapTracker,
    LiveStats,
    LiveStream,
    fetch_klines,
    rest_client,
)
from cryptolake.ingest.binance.config import KlinesConfig, LiveConfig, SinkConfig
from cryptolake.ingest.bronze import KafkaMeta

log = logging.getLogger(__name__)


class BinanceLive:
    """Combined websocket → Kafka, with gap detection and REST backfill."""

    def __init__(self, config: LiveConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.ingest.kafka import KafkaSink

        cfg = self.config
        topics = [parse.AGG_TRADE_TOPIC if s == "aggTrade" else f"binance.{s}" for s in cfg.streams]
        kafka = KafkaSink(ctx.settings, ctx.name, topics=topics)
        writer = open_writer(ctx, cfg.namespace)

        def progress(stats: LiveStats) -> None:
            ctx.report(
                stats.records,
                cfg.max_messages,
                f"{stats.records} records, {stats.gaps_found} gaps, "
                f"{stats.reconnects} reconnects",
            )

        gaps = GapTracker()
        resumed = 0
        if cfg.resume_from_kafka:
            delivered = read_back(ctx.settings, topics, cfg.resume_scan_messages, set(cfg.symbols))
            gaps.seed(delivered)
            resumed = len(delivered)
            log.info(
                "resuming after %d records read back from Kafka: last ids %s",
                resumed,
                gaps.last_agg_id,
            )
        stream = LiveStream(
            cfg,
            emit=lambda rec: kafka.send(rec),
            reject=writer.reject,
            progress=progress,
            gaps=gaps,
            alert=alert_sink(ctx, "stream_gap_unfilled", namespace=cfg.ops_namespace),
        )
        try:
            stats = stream.run()
        except KeyboardInterrupt:
            log.info("interrupted; flushing what was received")
            stats = stream.stats
        finally:
            kafka.flush()
            writer.flush()
            stream.http.close()
        tally = Tally(
            records_in=stats.records + stats.backfilled + stats.rejected,
            rejected=stats.rejected,
            gaps_found=stats.gaps_found,
            gaps_filled=stats.gaps_filled,
            backfilled=stats.backfilled,
            duplicates_dropped=stats.duplicates,
            extra={
                "messages": stats.messages,
                "connections": stats.connections,
                "reconnects": stats.reconnects,
                "skipped_streams": stats.skipped_streams,
                "resumed_from_kafka": resumed,
                "gaps_unfilled": stats.gaps_unfilled,
                "rest_outages": stats.rest_outages,
                "gaps": stats.gap_log,
                "rest": dict(stream.http.stats),
            },
        )
        ctx.report(stats.records, stats.records, "done")
        return tally.result(writer, kafka)


def incremental_start(
    writer: Any, symbol: str, interval: str, end: datetime, lookback_days: float
) -> datetime:
    """Where an incremental klines run starts: right after the newest **closed** candle stored.

    The newest stored candle may still have been open when it was fetched (REST returns the
    current, unfinished candle too, and the websocket stores in-progress updates); starting
    after it would never fetch its closed version. So the run starts at the first candle after
    the newest closed one, refetching every candle stored open since — an unchanged candle is
    not stored twice (Bronze adds a row only for a new (key, payload hash)). Only open candles
    stored: from the newest of them. Nothing stored: ``lookback_days`` before ``end``.
    """
    step = timedelta(milliseconds=parse.INTERVAL_MS[interval])
    closed = writer.last_time(parse.KLINES, symbol=symbol, interval=interval, is_closed=True)
    if closed is not None:
        return closed + step
    last = writer.last_time(parse.KLINES, symbol=symbol, interval=interval)  # open ones only
    return last if last is not None else end - timedelta(days=lookback_days)


class BinanceKlines:
    """REST backfill of klines (1m, 1h, 1d) for a window, straight into ``bronze.binance_klines``.

    Window: ``ctx.start``/``ctx.end`` when given; otherwise from the newest stored open time of
    each symbol and interval (incremental), or ``lookback_days`` back on the first run.
    """

    def __init__(self, config: KlinesConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        cfg = self.config
        writer = open_writer(ctx, cfg.namespace)
        tally = Tally()
        end = ctx.end or datetime.now(UTC)
        pairs = [(s, i) for s in cfg.symbols for i in cfg.intervals]
        windows: dict[str, Any] = {}
        with rest_client(cfg) as http:
            for n, (symbol, interval) in enumerate(pairs):
                if ctx.start is not None:
                    start = ctx.start
                else:
                    start = incremental_start(writer, symbol, interval, end, cfg.lookback_days)
                windows[f"{symbol}/{interval}"] = [start.isoformat(), end.isoformat()]
                ctx.report(n, len(pairs), f"{symbol} {interval} from {start:%Y-%m-%d %H:%M}")
                end_ms = dt_to_ms(end) - 1
                for item in fetch_klines(
                    http, symbol, interval, dt_to_ms(start), end_ms, limit=cfg.page_limit
                ):
                    tally.records_in += 1
                    if isinstance(item, Reject):
                        tally.rejected += 1
                        writer.reject(item)
                    else:
                        writer.add(item)
                writer.flush()
            tally.extra["rest"] = dict(http.stats)
        tally.extra["windows"] = windows
        ctx.report(len(pairs), len(pairs), "done")
        return tally.result(writer)


def watermarks(consumer: Any, tp: Any, wait_s: float = 120.0) -> tuple[int, int]:
    """(low, high) offsets of a partition, waiting out a leader election (a new topic, or a
    broker that just restarted) for up to ``wait_s`` seconds."""
    import time

    from confluent_kafka import KafkaError, KafkaException

    electing = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT, KafkaError._TIMED_OUT}
    deadline = time.monotonic() + wait_s
    while True:
        try:
            lo, hi = consumer.get_watermark_offsets(tp, timeout=10)
            return int(lo), int(hi)
        except KafkaException as exc:
            err = exc.args[0]
            waitable = err.retriable() or err.code() in electing
            if not waitable or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def read_back(settings: Any, topics: list[str], per_topic: int, symbols: set[str]) -> list[Any]:
    """The newest ``per_topic`` records of each (un-prefixed) topic, parsed, oldest first."""
    from confluent_kafka import Consumer, TopicPartition

    from cryptolake.core.clients import consumer_config, topic_name

    consumer = Consumer(
        consumer_config("cryptolake-live-resume", settings, **{"enable.partition.eof": True})
    )
    out: list[Any] = []
    try:
        names = [topic_name(t, settings) for t in topics]
        meta = consumer.list_topics(timeout=10).topics
        assignments = []
        ends: dict[tuple[str, int], int] = {}
        for name in names:
            if name not in meta:
                continue
            for p in meta[name].partitions:
                lo, hi = watermarks(consumer, TopicPartition(name, p))
                if hi > lo:
                    assignments.append(TopicPartition(name, p, max(lo, hi - per_topic)))
                    ends[(name, p)] = hi
        if not assignments:
            return out
        consumer.assign(assignments)
        pending = set(ends)
        while pending:
            msgs = consumer.consume(num_messages=10_000, timeout=5.0)
            if not msgs:
                break
            for msg in msgs:
                key = (str(msg.topic()), int(msg.partition() or 0))
                if msg.error() is not None:
                    pending.discard(key)  # partition EOF
                    continue
                if (msg.offset() or 0) >= ends.get(key, 0) - 1:
                    pending.discard(key)
                item = parse.parse_event_bytes(msg.value() or b"", layout="kafka", origin="resume")
                if not isinstance(item, Reject) and item.key in symbols:
                    out.append(item)
    finally:
        consumer.close()
    return out


def _header(msg: Any, name: str) -> str | None:
    for k, v in msg.headers() or ():
        if k == name and v is not None:
            return v.decode(errors="replace")
    return None


class BronzeSink:
    """Kafka → Bronze in Python: the reference implementation of the stream contract.

    Reads the Binance topics, writes ``bronze.binance_klines`` / ``bronze.binance_agg_trades``
    (with topic, partition and offset), dead-letters bad messages, and commits the consumer
    offsets only after the Iceberg commit. A restart after a crash between the two re-reads some
    messages; the writer drops rows already stored, so nothing is doubled.
    """

    def __init__(self, config: SinkConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        return drain(ctx, self.config)


def drain(ctx: JobContext, cfg: SinkConfig, *, source: str | None = None) -> JobResult:
    import time

    from confluent_kafka import Consumer, KafkaException

    from cryptolake.core.clients import consumer_config, ensure_topics, topic_name

    topics = [topic_name(t, ctx.settings) for t in cfg.topics]
    ensure_topics(topics, ctx.settings)
    writers: dict[str, Any] = {}
    tally = Tally()
    consumer = Consumer(consumer_config(cfg.group_id, ctx.settings))
    consumer.subscribe(topics)
    by_topic: dict[str, int] = {}
    try:
        last_msg = time.monotonic()
        while True:
            msgs = consumer.consume(num_messages=10_000, timeout=1.0)
            for msg in msgs:
                error = msg.error()
                if error is not None:
                    if error.retriable() or error.code() == -191:  # partition EOF
                        continue
                    raise KafkaException(error)
                topic = str(msg.topic())
                src = source or _header(msg, "source") or ctx.name
                writer = writers.get(src)
                if writer is None:
                    writer = writers[src] = open_writer(ctx, cfg.namespace, source=src)
                _, ts = msg.timestamp()
                meta = KafkaMeta(topic, int(msg.partition() or 0), int(msg.offset() or 0), ts)
                origin = _header(msg, "origin") or f"{topic}/{meta.partition}/{meta.offset}"
                layout = _header(msg, "layout") or parse.LAYOUT_WS
                item = parse.parse_event_bytes(msg.value() or b"", layout=layout, origin=origin)
                tally.records_in += 1
                by_topic[topic] = by_topic.get(topic, 0) + 1
                if isinstance(item, Reject):
                    tally.rejected += 1
                    writer.reject(item, kafka=meta)
                else:
                    writer.add(item, ingested_ms=ts if ts > 0 else now_ms(), kafka=meta)
            if msgs:
                last_msg = time.monotonic()
            pending = sum(w.pending() for w in writers.values())
            limit = cfg.max_messages is not None and tally.records_in >= cfg.max_messages
            if pending and (not msgs or pending >= cfg.batch_messages or limit):
                for w in writers.values():
                    w.flush()
                consumer.commit(asynchronous=False)  # only after the Iceberg commits
                ctx.report(tally.records_in, None, f"{tally.records_in} messages committed")
            if limit:
                break
            if (
                not msgs
                and cfg.idle_timeout_s
                and time.monotonic() - last_msg >= cfg.idle_timeout_s
            ):
                break
    finally:
        consumer.close()
    res = tally.result()
    bronze: dict[str, dict[str, int]] = {}
    for w in writers.values():
        for feed, out in w.outcomes.items():
            ident = w.identifier(feed)
            b = bronze.setdefault(ident, {"written": 0, "already_stored": 0})
            b["written"] += out.written
            b["already_stored"] += out.duplicates
            res.snapshot_ids[ident] = out.snapshot_id
            if feed != "rejects":
                res.rows_out += out.written
    res.details.update(bronze=bronze, written=res.rows_out, consumed_by_topic=by_topic)
    return res
