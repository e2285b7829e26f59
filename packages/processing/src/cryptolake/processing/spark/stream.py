"""Kafka → Bronze with Spark Structured Streaming, exactly once.

One streaming query subscribes to every routed topic (``_routes.DEFAULT_ROUTES``); each
micro-batch is split by topic, each record parsed and mapped onto its Bronze table's contract,
Kafka partition and offset kept per row, and appended with two snapshot properties:
``cryptolake.stream-id`` (a uuid kept in the checkpoint) and ``cryptolake.stream-batch`` (the
micro-batch id).

Why nothing is lost or doubled when the process dies at any moment:

- Spark writes the batch's offset range to the checkpoint *before* running it and marks it done
  *after* ``foreachBatch`` returned, i.e. after every Iceberg commit (offsets are "committed" only
  after the data is);
- on restart Spark re-runs an unfinished batch with the *same* offsets and batch id; a table that
  already holds a snapshot with that stream id and batch id is skipped, the others are written.

Bronze's rule "a row is added only when (natural key, ``payload_sha256``) is not stored yet" holds
here too: a record produced twice to Kafka (a reconnect replaying events) is stored once — the
batch is deduplicated and anti-joined with the rows already in the table over the batch's event-time
range (partition pruning keeps that cheap).

Records that cannot be parsed go to ``bronze.rejects`` with the reason naming the field; they never
stop the stream.

Run it with :class:`BronzeStream` (a transform: drains what Kafka holds now, then stops — the
``availableNow`` trigger) or as the supervised long-lived process of
:mod:`cryptolake.processing.spark.supervisor` (``cryptolake stream start|stop|status``).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptolake.core import JobContext, JobResult
from cryptolake.core.errors import TransientError
from cryptolake.core.settings import Settings, get_settings
from cryptolake.core.tables import get_contract
from cryptolake.processing.spark import _routes
from cryptolake.processing.spark._common import ensure_tables, spark
from cryptolake.processing.spark._stream_state import (
    StreamConfig,
    write_status,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

STREAM_ID_PROPERTY = "cryptolake.stream-id"
BATCH_PROPERTY = "cryptolake.stream-batch"
REJECTS_TABLE = "rejects"
#: a micro-batch up to this many new rows is written by one task (a streaming batch: ~10^2)
SINGLE_WRITER_ROWS = 100_000


# -- the batch writer -------------------------------------------------------------------------


@dataclass
class BatchWriter:
    """``foreachBatch`` body: one micro-batch into every Bronze table, idempotently."""

    config: StreamConfig
    settings: Settings
    stream_id: str
    on_batch: Callable[[int, dict[str, int]], None] | None = None
    metrics: Any = None  # a _stream_metrics.StreamMetrics, in the long-lived process
    #: True in the supervised long-lived stream process, which alone writes the stream's status
    #: file: a one-off catch-up run (the pipeline's Bronze step) that wrote "running" there would
    #: leave a stream that looks dead, and the worker's stream check would start one nobody asked
    #: for
    supervised: bool = False
    totals: dict[str, int] = field(default_factory=dict)
    #: the first batch id this writer ran: only that one can be a re-run of a batch an earlier
    #: run committed before it died (Spark re-runs the unfinished batch once, at query start)
    first_batch: int | None = None

    def __post_init__(self) -> None:
        cat, ns = self.settings.lakehouse.catalog, self.config.bronze_namespace
        self.prefix = self.settings.kafka.topic_prefix
        self.routes = self.config.routes()
        self.targets = {r.topic: f"{cat}.{ns}.{r.table}" for r in self.routes}
        self.contracts = {r.topic: get_contract(f"bronze.{r.table}") for r in self.routes}
        for r in self.routes:  # fail fast on a contract the routes cannot fill
            _routes.column_exprs(r, self.contracts[r.topic])
        self.rejects = get_contract(f"bronze.{REJECTS_TABLE}")
        self.rejects_ident = f"{cat}.{ns}.{REJECTS_TABLE}"

    def already_written(self, session: SparkSession, table: str, batch_id: int) -> bool:
        if self.first_batch is not None and batch_id > self.first_batch:
            return False  # a batch this query run has not seen before: not committed yet
        rows = session.sql(
            f"SELECT 1 FROM {table}.snapshots WHERE summary['{STREAM_ID_PROPERTY}'] = "
            f"'{self.stream_id}' AND summary['{BATCH_PROPERTY}'] = '{batch_id}' LIMIT 1"
        ).collect()
        return bool(rows)

    def new_rows(self, session: SparkSession, df: DataFrame, table: str, contract: Any,
                 bounds: tuple[Any, Any]) -> DataFrame:
        """Rows of ``df`` whose (natural key, payload_sha256) is neither repeated in the batch
        nor stored in ``table`` (compared over the batch's range of the partition column,
        ``bounds``: as strings, from the batch's statistics job)."""
        from pyspark.sql import Window as W
        from pyspark.sql import functions as F

        ident = [*contract.key, "payload_sha256"]
        first = W.partitionBy(*ident).orderBy("kafka_partition", "kafka_offset")
        df = df.withColumn("_rn", F.row_number().over(first)).where("_rn = 1").drop("_rn")
        part_col = contract.partition_by[0].column if contract.partition_by else None
        existing = session.table(table)
        if part_col is not None:
            kind = next(c for c in contract.columns if c.name == part_col).spark_type()
            lo, hi = (None if b is None else F.lit(b).cast(kind) for b in bounds)
            if lo is None or hi is None:
                return df
            existing = existing.where(F.col(part_col).between(lo, hi))
        return df.join(existing.select(*ident), on=ident, how="left_anti")

    def _append(self, session: SparkSession, df: DataFrame, table: str, batch_id: int,
                *, clustered: bool = False) -> bool:
        """Append ``df`` to ``table`` as batch ``batch_id`` (once). ``clustered``: shuffle the rows
        by table partition first, so each partition gets one file, not one per writing task (a
        catch-up batch of 200 k klines over 107 months wrote 320 files of ~600 rows without it,
        and every Silver read paid for each)."""
        if self.already_written(session, table, batch_id):
            log.info("batch %d already committed to %s; skipped (restart after a crash)",
                     batch_id, table)
            return False
        (
            df.writeTo(table)
            # a micro-batch is small: write it as it comes (one open file per partition) rather
            # than shuffle it by partition first (Iceberg's "hash" distribution)
            .option("distribution-mode", "hash" if clustered else "none")
            .option("fanout-enabled", "true")
            .option(f"snapshot-property.{STREAM_ID_PROPERTY}", self.stream_id)
            .option(f"snapshot-property.{BATCH_PROPERTY}", str(batch_id))
            .append()
        )
        return True

    def _statistics(self, parts: dict[str, tuple[Any, DataFrame]]) -> dict[str, dict[str, Any]]:
        """One Spark job over the batch: per topic, its records, how many are invalid, the
        oldest Kafka timestamp, and the range of the target table's partition column over its
        valid records (as strings: one schema for every topic)."""
        from functools import reduce

        from pyspark.sql import functions as F

        frames = []
        for topic, (r, part) in parts.items():
            contract = self.contracts[r.topic]
            part_col = contract.partition_by[0].column if contract.partition_by else None
            if part_col is not None:
                expr = _routes.column_exprs(r, contract)[contract.column_names.index(part_col)]
                value = F.when(F.col("_ok"), expr)
            else:
                value = F.lit(None)
            frames.append(part.select(F.col("_ok"), F.col("timestamp"), value.alias("_pc")).agg(
                F.lit(topic).alias("topic"),
                F.count(F.lit(1)).alias("n"),
                F.sum(F.when(F.col("_ok"), 0).otherwise(1)).alias("bad"),
                F.unix_millis(F.min("timestamp")).alias("oldest_ms"),
                F.min("_pc").cast("string").alias("lo"),
                F.max("_pc").cast("string").alias("hi"),
            ))
        rows = reduce(lambda a, b: a.unionByName(b), frames).collect()
        return {str(row["topic"]): row.asDict() for row in rows if row["n"]}

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        from pyspark.sql import functions as F

        session = batch.sparkSession
        started = time.monotonic()
        phases: dict[str, float] = {}

        def phase(name: str, since: float) -> float:
            now = time.monotonic()
            phases[name] = phases.get(name, 0.0) + now - since
            return now

        if self.first_batch is None:
            self.first_batch = batch_id
        batch = batch.persist()
        counts: dict[str, int] = {}
        rejected_total = 0
        oldest: dict[str, int] = {}
        topics: dict[str, tuple[int, int]] = {}
        try:
            if self.supervised:
                write_status(self.settings, self.config.name, state="running", phase="writing",
                             batch_id=batch_id)
            # every route's records parsed once; one statistics job says which topics have
            # records, whether any is invalid, and each table's range to deduplicate against
            parts: dict[str, tuple[Any, DataFrame]] = {}
            for r in self.routes:
                part = batch.where(F.col("topic") == self.prefix + r.topic).withColumn(
                    "_p", F.from_json(F.col("value").cast("string"), r.schema)
                ).withColumn("_ok", _routes.valid_condition(r))
                parts[self.prefix + r.topic] = (r, part)
            t = time.monotonic()
            stats = self._statistics(parts)
            t = phase("read", t)
            topics = {name: (int(st["n"]), int(st["oldest_ms"])) for name, st in stats.items()}
            by_table: dict[str, list[DataFrame]] = {}
            bounds: dict[str, tuple[Any, Any]] = {}
            rejects: list[DataFrame] = []
            for name, st in stats.items():
                r, part = parts[name]
                table = self.targets[r.topic]
                oldest[table] = min(oldest.get(table, st["oldest_ms"]), st["oldest_ms"])
                if st["n"] > (st["bad"] or 0):
                    good = part.where(F.col("_ok")).select(
                        *_routes.column_exprs(r, self.contracts[r.topic])
                    )
                    by_table.setdefault(table, []).append(good)
                    bounds[table] = _widen(bounds.get(table), (st["lo"], st["hi"]))
                if st["bad"]:
                    rejects.append(
                        part.where(~F.col("_ok")).select(
                            _routes.header("source").alias("source"),
                            F.lit(r.table).alias("feed"),
                            F.coalesce(_routes.header("layout"), F.lit(r.layout)).alias("layout"),
                            F.coalesce(_routes.header("origin"), _routes.origin()).alias("origin"),
                            _routes.rejection_reason(r).alias("reason"),
                            F.col("value").cast("string").alias("raw"),
                            F.col("topic").alias("kafka_topic"),
                            F.col("partition").alias("kafka_partition"),
                            F.col("offset").alias("kafka_offset"),
                        )
                    )
            contracts = {self.targets[r.topic]: self.contracts[r.topic] for r in self.routes}
            for table, frames in by_table.items():
                if self.already_written(session, table, batch_id):
                    log.info("batch %d already committed to %s; skipped (restart after a "
                             "crash)", batch_id, table)
                    continue
                df = frames[0]
                for f in frames[1:]:
                    df = df.unionByName(f)
                df = self.new_rows(session, df, table, contracts[table], bounds[table]).cache()
                n = df.count()
                t = phase("dedup", t)
                if n:
                    # one writing task for a small batch: one file per table partition, not
                    # one per Kafka partition and table partition; a large one (a catch-up,
                    # history) is shuffled by table partition for the same outcome
                    small = n <= SINGLE_WRITER_ROWS
                    self._append(session, df.coalesce(1) if small else df, table, batch_id,
                                 clustered=not small)
                    t = phase("commit", t)
                counts[table] = n
                df.unpersist()
            if rejects:
                rejected_total = self._reject(session, rejects, batch_id)
                t = phase("rejects", t)
            if self.config.pause_after_commit_s:
                if self.supervised:
                    write_status(self.settings, self.config.name, phase="committed",
                                 batch_id=batch_id)
                time.sleep(self.config.pause_after_commit_s)
        finally:
            batch.unpersist()
            # An append re-caches every cached plan that reads the table it wrote (the deduped
            # rows read it for the anti-join) under a new entry that unpersist() no longer
            # finds: ~2 CachedData entries leaked per batch, and every later query's planning
            # compared itself with all of them (commit 2.5 s → 11 s over 130 batches). Nothing
            # in the stream's session keeps a cache across batches, so drop them all.
            session.catalog.clearCache()
        for tb, n in counts.items():
            self.totals[tb] = self.totals.get(tb, 0) + n
        duration = time.monotonic() - started
        log.info("batch %d: %s rows, %d rejected in %.1fs (%s)", batch_id, counts, rejected_total,
                 duration, ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()))
        if self.metrics is not None:
            now_ms = time.time() * 1000
            self.metrics.batch(
                duration,
                topics={tp.removeprefix(self.prefix): n for tp, (n, _) in topics.items()},
                written={tb.split(".", 1)[1]: n for tb, n in counts.items()},
                rejected={f"{self.config.bronze_namespace}.{REJECTS_TABLE}": rejected_total},
                ages={tb.split(".", 1)[1]: max(0.0, (now_ms - ms) / 1000)
                      for tb, ms in oldest.items() if counts.get(tb)},
            )
        if self.on_batch is not None:
            self.on_batch(batch_id, {**counts, "rejected": rejected_total})

    def _reject(self, session: SparkSession, frames: list[DataFrame], batch_id: int) -> int:
        if not frames or self.already_written(session, self.rejects_ident, batch_id):
            return 0
        df = frames[0]
        for f in frames[1:]:
            df = df.unionByName(f)
        df = df.cache()
        try:
            n = df.count()
            if not n:
                return 0
            for row in df.limit(5).collect():
                log.warning("record rejected: topic %s partition %s offset %s: %s",
                            row["kafka_topic"], row["kafka_partition"], row["kafka_offset"],
                            row["reason"])
            self._append(session, _reject_rows(df, self.rejects), self.rejects_ident, batch_id)
            return n
        finally:
            df.unpersist()


def _widen(a: tuple[Any, Any] | None, b: tuple[Any, Any]) -> tuple[Any, Any]:
    """The range covering ``a`` and ``b`` (``(lo, hi)`` of one type; ``None`` bounds: none)."""
    if a is None:
        return b
    lows = [x for x in (a[0], b[0]) if x is not None]
    highs = [x for x in (a[1], b[1]) if x is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)


def _reject_rows(df: DataFrame, contract: Any) -> DataFrame:
    from pyspark.sql import functions as F

    values: dict[str, Any] = {
        "source": F.coalesce(F.col("source"), F.lit(_routes.STREAM_SOURCE)),
        "raw_sha256": F.sha2(F.col("raw"), 256),
        "rejected_at": F.current_timestamp(),
    }
    return df.select(
        *[(values[c.name] if c.name in values else F.col(c.name) if c.name in df.columns
           else F.lit(None)).cast(c.spark_type()).alias(c.name)
          for c in contract.columns]
    )


# -- building and running the query -----------------------------------------------------------


def stream_id(checkpoint: Path) -> str:
    """The id of the stream behind ``checkpoint``: made once, kept next to Spark's own files."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    marker = checkpoint / "cryptolake-stream-id"
    if marker.exists():
        return marker.read_text().strip()
    value = uuid.uuid4().hex
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(value)
    tmp.replace(marker)
    return value


def _ensure_bronze(config: StreamConfig, settings: Settings) -> None:
    contracts = {r.table: get_contract(f"bronze.{r.table}") for r in config.routes()}
    contracts[REJECTS_TABLE] = get_contract(f"bronze.{REJECTS_TABLE}")
    ensure_tables(settings, [(c, config.bronze_namespace) for c in contracts.values()])


def start_query(
    session: SparkSession,
    config: StreamConfig,
    settings: Settings,
    *,
    available_now: bool = False,
    on_batch: Callable[[int, dict[str, int]], None] | None = None,
    metrics: Any = None,
) -> tuple[Any, BatchWriter]:
    # Binance payloads have fields that differ only in case (e/E, t/T, q/Q…)
    session.conf.set("spark.sql.caseSensitive", "true")
    checkpoint = config.checkpoint(settings)
    writer = BatchWriter(config, settings, stream_id(checkpoint), on_batch=on_batch,
                         metrics=metrics, supervised=not available_now)
    topics = ",".join(settings.kafka.topic_prefix + r.topic for r in writer.routes)
    reader = (
        session.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        .option("subscribe", topics)
        .option("startingOffsets", config.starting_offsets)
        .option("includeHeaders", "true")
    )
    if config.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(config.max_offsets_per_trigger))
    writer_stream = (
        reader.load()
        .writeStream.queryName(f"cryptolake-{config.name}")
        .option("checkpointLocation", str(checkpoint))
        .foreachBatch(writer)
    )
    if available_now:
        writer_stream = writer_stream.trigger(availableNow=True)
    else:
        writer_stream = writer_stream.trigger(
            processingTime=f"{int(config.trigger_seconds * 1000)} milliseconds"
        )
    log.info("stream %s: %s → %s.* (checkpoint %s)", config.name, topics,
             config.bronze_namespace, checkpoint)
    return writer_stream.start(), writer


class BronzeStream:
    """Transform entry ``bronze.binance_stream``: drain Kafka into Bronze once, then stop."""

    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()

    def ensure_running(self, settings: Settings | None = None) -> bool:
        """Restart the long-lived stream if it died (crashed, killed, failed); True if restarted.

        A stream stopped on purpose (``cryptolake stream stop``) or never started is left alone.
        Called by the worker's periodic ``check_stream`` task.
        """
        from cryptolake.processing.spark import supervisor

        status = supervisor.stream_status(self.config.name, settings)
        if status.running or status.state not in ("dead", "failed"):
            return False
        log.warning("stream %s is %s; restarting it", self.config.name, status.state)
        supervisor.start_stream(self.config, settings)
        return True

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.processing.spark import supervisor

        if supervisor.is_running(self.config.name, ctx.settings):
            # the supervised stream already drains Kafka: wait until it has caught up
            from cryptolake.processing.spark.catchup import (
                committed_offsets,
                records_between,
                wait_caught_up,
            )

            checkpoint = self.config.checkpoint(ctx.settings)
            before = committed_offsets(checkpoint)
            reached = wait_caught_up(self.config.topics, checkpoint, ctx.settings)
            # the Kafka records the stream committed while this step waited (what it wrote to
            # Bronze after deduplication is in its own metrics: `cryptolake stream status`)
            caught_up = records_between(before, reached)
            return JobResult(rows_in=caught_up, details={
                "caught_up": "the running stream job",
                "records_caught_up": caught_up,
                "offsets": {f"{t}[{p}]": o for (t, p), o in sorted(reached.items())},
            })
        _ensure_bronze(self.config, ctx.settings)
        session = spark(f"cryptolake-stream-{self.config.name}")
        batches: list[dict[str, int]] = []

        def on_batch(_batch_id: int, counts: dict[str, int]) -> None:
            batches.append(counts)
            ctx.report(sum(n for b in batches for t, n in b.items() if t != "rejected"), None,
                       f"rows in {len(batches)} micro-batches into {self.config.bronze_namespace}")

        for attempt in (1, 2):
            # a query resuming after a crash re-runs its unfinished batch, and Spark's Kafka source
            # may then fail while reporting metrics (NPE in KafkaMicroBatchStream.metrics); the
            # batch is committed by then, so one restart carries on
            query, writer = start_query(
                session, self.config, ctx.settings, available_now=True,
                on_batch=on_batch,
            )
            try:
                query.awaitTermination()
                error = query.exception()
            except Exception as exc:
                error = exc
            if error is None:
                break
            if attempt == 2:
                raise TransientError(f"stream {self.config.name} failed twice: {error}")
            log.warning("stream %s failed (%s); restarting once", self.config.name, error)
        result = JobResult(
            rows_in=sum(n for b in batches for t, n in b.items() if t != "rejected"),
            rejected=sum(b.get("rejected", 0) for b in batches),
            details={"batches": len(batches), "rows_per_table": writer.totals},
        )
        result.rows_out = result.rows_in
        from cryptolake.processing.spark._common import current_snapshot_id

        for table, n in writer.totals.items():
            if n:
                snap = current_snapshot_id(session, table)
                result.snapshot_ids[table] = snap
                ctx.committed(table, snap, n)
        return result


def _side_queries(session: SparkSession, config: StreamConfig, settings: Settings) -> list[Any]:
    """Queries that run next to the Bronze stream: the watermarked VWAP when ``vwap`` is on."""
    if not config.vwap:
        return []
    from cryptolake.processing.spark.vwap import VwapConfig, start_vwap_stream

    return [start_vwap_stream(
        session, settings, name=config.name, silver_namespace=config.silver_namespace,
        checkpoint=config.checkpoint(settings).with_name(f"{config.checkpoint(settings).name}-vwap"),
        trigger_seconds=config.trigger_seconds,
        config=VwapConfig(window_minutes=config.vwap_window_minutes,
                          slide_minutes=config.vwap_slide_minutes,
                          watermark_minutes=config.vwap_watermark_minutes),
    )]


def compact_tables(session: SparkSession, config: StreamConfig, settings: Settings,
                   tables: list[str], metrics: Any = None) -> dict[str, dict[str, int]]:
    """Bound the files the stream leaves: compact the partitions of ``tables`` (``ns.table``)
    holding at least ``compact_min_files`` files, rewrite the manifests past
    ``compact_max_manifests``, expire old snapshots when ``expire_after_hours`` is set.

    Runs next to the streaming query in its Spark session (no second JVM); the stream's appends
    and the rewrite commit concurrently (Iceberg retries; an append never conflicts with a
    rewrite). A failure is logged and counted, never raised: the stream goes on.
    """
    cat = settings.lakehouse.catalog
    out: dict[str, dict[str, int]] = {}
    for table in tables:
        ident = f"{cat}.{table}"
        try:
            row = session.sql(
                f"CALL {cat}.system.rewrite_data_files(table => '{ident}', options => map("
                f"'min-input-files', '{config.compact_min_files}', "
                f"'target-file-size-bytes', '{config.compact_target_file_mb * 1024 * 1024}'))"
            ).first()
            done = {"rewritten": int(row["rewritten_data_files_count"]) if row else 0,
                    "added": int(row["added_data_files_count"]) if row else 0}
            manifests = session.sql(f"SELECT count(*) FROM {ident}.manifests").first()
            if manifests is not None and int(manifests[0]) > config.compact_max_manifests:
                session.sql(f"CALL {cat}.system.rewrite_manifests(table => '{ident}')").collect()
                done["manifests_rewritten"] = int(manifests[0])
            if config.expire_after_hours is not None:
                from datetime import timedelta

                older = datetime.now(UTC) - timedelta(hours=config.expire_after_hours)
                session.sql(
                    f"CALL {cat}.system.expire_snapshots(table => '{ident}', older_than => "
                    f"TIMESTAMP '{older.strftime('%Y-%m-%d %H:%M:%S')}', "
                    f"retain_last => {config.expire_retain_last})"
                ).collect()
            files = session.sql(
                f"SELECT count(*) AS files, max(n) AS most FROM (SELECT partition, count(*) AS n "
                f"FROM {ident}.files GROUP BY partition)"
            ).first()
            done["files"] = int(files["files"] or 0) if files else 0
            done["max_files_per_partition"] = int(files["most"] or 0) if files else 0
            out[table] = done
            log.info("stream %s: compacted %s: %s", config.name, table, done)
            if metrics is not None:
                metrics.compacted(table, "succeeded", done["files"],
                                  done["max_files_per_partition"])
        except Exception as exc:
            log.warning("stream %s: compaction of %s failed (the stream goes on): %s",
                        config.name, table, str(exc).splitlines()[0][:300] if str(exc) else exc)
            if metrics is not None:
                metrics.compacted(table, "failed")
    return out


def _serve_metrics(config: StreamConfig, settings: Settings) -> Any:
    if not config.metrics_port:
        return None
    try:
        from cryptolake.processing.spark._stream_metrics import StreamMetrics

        metrics = StreamMetrics(config.name, settings.kafka.topic_prefix)
    except ImportError:  # prometheus_client not installed: the stream runs unmeasured
        log.warning("stream %s: no metrics (install cryptolake-core[metrics])", config.name)
        return None
    from cryptolake.core.metrics import serve

    bound = serve(config.metrics_port, config.metrics_host)
    write_status(settings, config.name, metrics_port=bound or None)
    return metrics


def run_forever(config: StreamConfig, settings: Settings | None = None) -> int:
    """The body of the long-lived stream process: run, restart on failure, stop on SIGTERM."""
    settings = settings or get_settings()
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("stream %s: signal %d, stopping after the current step", config.name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    write_status(settings, config.name, state="starting", phase="starting-spark", error=None,
                 trigger_seconds=config.trigger_seconds)
    _ensure_bronze(config, settings)
    metrics = _serve_metrics(config, settings)
    session = spark(f"cryptolake-stream-{config.name}")
    tables = sorted({f"{config.bronze_namespace}.{t}"
                     for t in [*(r.table for r in config.routes()), REJECTS_TABLE]})
    next_compact = time.monotonic() + config.compact_interval_s
    failures: list[float] = []
    batches = 0
    rows = 0

    def on_batch(batch_id: int, counts: dict[str, int]) -> None:
        nonlocal batches, rows
        batches += 1
        rows += sum(n for t, n in counts.items() if t != "rejected")
        write_status(settings, config.name, state="running", phase="idle",
                     last_batch_id=batch_id, last_batch_rows=counts, batches=batches,
                     rows=rows, last_batch_at=datetime.now(UTC).isoformat())

    while not stop.is_set():
        query, writer = start_query(session, config, settings, on_batch=on_batch,
                                    metrics=metrics)
        compacted_at: dict[str, int] = {}  # rows written per table at its last compaction
        queries = [query, *_side_queries(session, config, settings)]
        write_status(settings, config.name, state="running", phase="idle")
        error: BaseException | None = None
        while not stop.is_set() and all(q.isActive for q in queries):
            try:
                query.awaitTermination(1.0)
            except Exception as exc:  # a failed query is restarted below
                error = exc
                break
            if metrics is not None:
                try:
                    metrics.progress(query.lastProgress)
                except Exception as exc:  # a progress report Spark could not give
                    log.debug("stream %s: no progress: %s", config.name, exc)
            if config.compact_interval_s and time.monotonic() >= next_compact:
                # only the tables written since their last compaction: the others are unchanged
                cat = settings.lakehouse.catalog
                changed = [t for t in tables if writer.totals.get(f"{cat}.{t}", 0)
                           != compacted_at.get(t, 0)]
                if changed:
                    done = compact_tables(session, config, settings, changed, metrics)
                    compacted_at.update({t: writer.totals.get(f"{cat}.{t}", 0) for t in changed})
                    write_status(settings, config.name, last_compaction=done,
                                 last_compaction_at=datetime.now(UTC).isoformat())
                next_compact = time.monotonic() + config.compact_interval_s
        if stop.is_set():
            write_status(settings, config.name, state="stopping", phase="stopping")
            for q in queries:
                q.stop()
            break
        for q in queries:
            error = error or q.exception()
            q.stop()
        now = time.time()
        failures = [t for t in failures if now - t < 3600] + [now]
        log.error("stream %s failed: %s", config.name, error)
        if len(failures) > config.max_restarts:
            write_status(settings, config.name, state="failed", phase="failed", error=str(error))
            return 1
        write_status(settings, config.name, state="restarting", phase="backoff",
                     error=str(error), restarts=len(failures))
        stop.wait(config.restart_backoff_s * len(failures))
    write_status(settings, config.name, state="stopped", phase="stopped")
    session.stop()
    return 0
