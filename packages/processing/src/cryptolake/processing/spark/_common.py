"""Helpers every Spark job shares: the session, table names, time windows and the idempotent MERGE.

The MERGE is *change-only*: rows whose values (all columns but the bookkeeping ones such as
``updated_at``) already sit in the target are dropped before ``MERGE INTO`` runs, so a rerun over the
same input writes nothing — no new snapshot, ``rows_out == 0`` — and a late record rewrites exactly
the rows it changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, overload

from pydantic import BaseModel, Field

from cryptolake.core.errors import ConfigError
from cryptolake.core.tables import TableContract, ensure_table, get_contract

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame, SparkSession

    from cryptolake.core import JobContext, Settings

log = logging.getLogger(__name__)

#: Columns that record when a row was written, not what it says: ignored when looking for changes.
BOOKKEEPING = frozenset({"updated_at", "detected_at"})


class SparkJobConfig(BaseModel):
    """What every Bronze → Silver job can be told."""

    bronze_namespace: str = Field("bronze", description="namespace the Bronze tables live in")
    silver_namespace: str = Field("silver", description="namespace the Silver tables live in")
    incremental: bool = Field(
        True, description="without --from/--to, recompute only the buckets whose input changed "
        "since the last run (the first run recomputes everything)"
    )
    incremental_slack_minutes: float = Field(
        360.0, ge=0, description="Bronze input whose snapshots the last run did not record: "
        "re-read rows ingested this long before its watermark (rows are committed late "
        "relative to their ingestion time)"
    )
    incremental_silver_slack_minutes: float = Field(
        0.0, ge=0, description="Silver input: re-read rows updated this long before the "
        "watermark (0: the jobs writing Silver run one at a time, so their updated_at order is "
        "their commit order; raise it if Silver jobs are run concurrently)"
    )


# -- sessions and tables ----------------------------------------------------------------------


def spark(app_name: str) -> SparkSession:
    """The Spark session of this process (built once by the core), in UTC."""
    try:
        from cryptolake.core.clients import spark_session
    except ImportError as exc:  # pragma: no cover - only before the core ships its clients
        raise ConfigError(
            "cryptolake.core.clients.spark_session is unavailable; update cryptolake-core"
        ) from exc
    session = spark_session(app_name)
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


def catalog_name(settings: Settings) -> str:
    return settings.lakehouse.catalog


def table_ident(settings: Settings, namespace: str, name: str) -> str:
    """``catalog.namespace.name`` as Spark SQL names it."""
    return f"{catalog_name(settings)}.{namespace}.{name}"


def ensure_tables(settings: Settings, contracts: Iterable[tuple[TableContract, str]]) -> None:
    """Create (or evolve) each ``(contract, namespace)`` through pyiceberg, as the core declares it."""
    from cryptolake.core.clients import load_catalog

    catalog = load_catalog(settings)
    for contract, namespace in contracts:
        ensure_table(catalog, contract, namespace=namespace)


def refresh(session: SparkSession, ident: str) -> None:
    try:
        session.sql(f"REFRESH TABLE {ident}")
    except Exception:  # a table Spark has not cached yet needs no refresh
        log.debug("refresh of %s skipped", ident)


def read(session: SparkSession, ident: str) -> DataFrame:
    """The table's latest snapshot (Spark's catalog cache may hold an older one)."""
    refresh(session, ident)
    return session.table(ident)


def table_exists(session: SparkSession, ident: str) -> bool:
    return bool(session.catalog.tableExists(ident))


def current_snapshot_id(session: SparkSession, ident: str) -> int | None:
    rows = session.sql(
        f"SELECT snapshot_id FROM {ident}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    return int(rows[0][0]) if rows else None


# -- time windows -----------------------------------------------------------------------------


@overload
def utc(ts: datetime) -> datetime: ...


@overload
def utc(ts: datetime | None) -> datetime | None: ...


def utc(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def floor_to(ts: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    ts = utc(ts)
    return epoch + ((ts - epoch) // step) * step


def ceil_to(ts: datetime, step: timedelta) -> datetime:
    floored = floor_to(ts, step)
    return floored if floored == utc(ts) else floored + step


#: An incremental run recomputes at most so many disjoint ranges; beyond, the closest merge.
MAX_SPANS = 64


def merge_spans(
    spans: Iterable[tuple[datetime, datetime]], *, limit: int = MAX_SPANS
) -> tuple[tuple[datetime, datetime], ...]:
    """Half-open ranges sorted and merged where they overlap or touch; more than ``limit`` left,
    the ones with the smallest gaps between them are merged too."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted((utc(a), utc(b)) for a, b in spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    while len(out) > max(limit, 1):
        i = min(range(len(out) - 1), key=lambda k: out[k + 1][0] - out[k][1])
        out[i : i + 2] = [(out[i][0], out[i + 1][1])]
    return tuple(out)


@dataclass(frozen=True)
class Window:
    """A half-open event-time range ``[start, end)``; either bound may be open.

    With ``spans`` the window is only those disjoint half-open ranges within ``[start, end)``
    (an incremental run whose changes lie on a few days years apart recomputes those days, not
    the years between them); ``start``/``end`` are then their hull.
    """

    start: datetime | None = None
    end: datetime | None = None
    spans: tuple[tuple[datetime, datetime], ...] | None = None

    @classmethod
    def of(cls, ctx: JobContext) -> Window:
        start, end = utc(ctx.start), utc(ctx.end)
        if start and end and start >= end:
            raise ConfigError(f"--from {start.isoformat()} must be before --to {end.isoformat()}")
        return cls(start, end)

    @classmethod
    def union(cls, spans: Iterable[tuple[datetime, datetime]]) -> Window:
        """The window of these ranges (merged where they overlap or touch)."""
        merged = merge_spans(spans)
        if not merged:
            raise ValueError("a window of no ranges")
        if len(merged) == 1:
            return cls(*merged[0])
        return cls(merged[0][0], merged[-1][1], merged)

    def _each(
        self, edit: Callable[[datetime, datetime], tuple[datetime, datetime]], hull: Window
    ) -> Window:
        if self.spans is None:
            return hull
        return Window.union(edit(a, b) for a, b in self.spans)

    def aligned(self, step: timedelta) -> Window:
        """Widened to whole buckets of ``step`` so no bucket is computed from part of its input."""
        hull = Window(
            floor_to(self.start, step) if self.start else None,
            ceil_to(self.end, step) if self.end else None,
        )
        return self._each(lambda a, b: (floor_to(a, step), ceil_to(b, step)), hull)

    def widened(self, before: timedelta = timedelta(0), after: timedelta = timedelta(0)) -> Window:
        hull = Window(
            self.start - before if self.start else None, self.end + after if self.end else None
        )
        return self._each(lambda a, b: (a - before, b + after), hull)

    def condition(self, column: str | SparkColumn) -> SparkColumn:
        from pyspark.sql import functions as F

        col = F.col(column) if isinstance(column, str) else column
        cond = F.lit(True)
        if self.start is not None:
            cond = cond & (col >= F.lit(self.start))
        if self.end is not None:
            cond = cond & (col < F.lit(self.end))
        if self.spans is not None:
            any_span = F.lit(False)
            for a, b in self.spans:
                any_span = any_span | ((col >= F.lit(a)) & (col < F.lit(b)))
            cond = cond & any_span
        return cond

    def sql(self, column: str) -> str:
        parts = []
        if self.start is not None:
            parts.append(f"{column} >= TIMESTAMP '{_sql_ts(self.start)}'")
        if self.end is not None:
            parts.append(f"{column} < TIMESTAMP '{_sql_ts(self.end)}'")
        if self.spans is not None:
            parts.append("(" + " OR ".join(
                f"({column} >= TIMESTAMP '{_sql_ts(a)}' AND {column} < TIMESTAMP '{_sql_ts(b)}')"
                for a, b in self.spans
            ) + ")")
        return " AND ".join(parts) or "TRUE"

    def describe(self) -> str:
        a = self.start.isoformat() if self.start else "-inf"
        b = self.end.isoformat() if self.end else "+inf"
        if self.spans is None:
            return f"[{a}, {b})"
        hours = sum((y - x).total_seconds() for x, y in self.spans) / 3600
        return f"{len(self.spans)} ranges within [{a}, {b}), {hours:,.1f} h in all"


def _sql_ts(ts: datetime) -> str:
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the change-only MERGE --------------------------------------------------------------------


@dataclass
class MergeOutcome:
    table: str
    rows_in: int
    inserted: int = 0
    updated: int = 0
    snapshot_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_out(self) -> int:
        return self.inserted + self.updated


def conform(df: DataFrame, contract: TableContract) -> DataFrame:
    """Select the contract's columns, in order, cast to their Spark types."""
    from pyspark.sql import functions as F

    missing = [c for c in contract.column_names if c not in df.columns]
    if missing:
        raise ConfigError(f"{contract.identifier}: the job produced no column(s) {missing}")
    return df.select(*[F.col(c.name).cast(c.spark_type()).alias(c.name) for c in contract.columns])


def merge_changes(
    session: SparkSession,
    source: DataFrame,
    target: str,
    contract: TableContract,
    *,
    target_window: tuple[str, Window] | None = None,
    ignore: Sequence[str] = (),
    append_new: bool = True,
) -> MergeOutcome:
    """``MERGE INTO target`` the rows of ``source`` that are new or differ from the target.

    ``source`` must hold at most one row per key (the job deduplicates). ``target_window`` =
    ``(column, window)`` restricts the comparison to the part of the target the job recomputed,
    and the MERGE's scan of the target to the files of that range. When every changed row is new
    (a first load, a new day) and ``append_new``, they are appended instead: no MERGE scans and
    rewrites the target. A table another process may write at the same time (the streaming VWAP)
    passes ``append_new=False``: only a MERGE's commit checks for a concurrent insert of a key.
    Returns how many rows were inserted and updated and the new snapshot id (``None`` if nothing
    changed, so nothing was committed).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    keys = list(contract.key)
    if not keys:
        raise ConfigError(f"{contract.identifier} declares no key; MERGE needs one")
    src = conform(source, contract)
    compared = [c for c in contract.column_names if c not in BOOKKEEPING and c not in ignore]
    refresh(session, target)
    tgt = session.table(target)
    if target_window is not None:
        column, window = target_window
        tgt = tgt.where(window.condition(column))
    tgt = tgt.select(*compared)
    src = src.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        # a key holding the window's column lies in the window on both sides (when every source
        # row does); any other key (a trade's id) may also exist outside it
        window_in_key = target_window is not None and target_window[0] in keys
        # rows, the most rows of one key and the rows outside the window, in one job
        per_key = src.groupBy(*keys).count()
        outside = (
            F.sum(F.when(target_window[1].condition(target_window[0]), 0).otherwise(1))
            if window_in_key and target_window is not None else F.lit(0)
        )
        rows_in, most, n_outside = (
            per_key.agg(F.sum("count"), F.max("count"), outside).first() or (0, 0, 0)
        )
        rows_in = int(rows_in or 0)
        window_in_key = window_in_key and not n_outside
        if (most or 0) > 1:
            dupes = per_key.where("count > 1").limit(3).collect()
            shown = ", ".join(str({k: r[k] for k in keys}) for r in dupes)
            raise ConfigError(f"{target}: the job produced several rows for key(s) {shown}")
        cond = [src[c].eqNullSafe(tgt[c]) for c in compared]
        # a checkpoint cuts the lineage to the target: Spark 4.1 cannot plan a MERGE whose
        # source view still references a V2 table ("No plan for TableReference")
        changed = src.join(tgt, on=cond, how="left_anti").localCheckpoint(eager=True)
        try:
            n_changed = changed.count()
            outcome = MergeOutcome(table=target, rows_in=rows_in)
            if n_changed == 0:
                log.info("%s: %d rows recomputed, none changed; nothing to commit", target, rows_in)
                return outcome
            # where the window may not hold a key's row, the key is looked up in the whole table
            whole = target_window is not None and not window_in_key
            tkeys = (session.table(target) if whole else tgt).select(*keys)
            outcome.updated = changed.join(tkeys, on=keys, how="left_semi").count()
            outcome.inserted = n_changed - outcome.updated
            if outcome.updated == 0 and append_new:
                changed.writeTo(target).append()
            else:
                view = f"cryptolake_merge_{uuid.uuid4().hex[:10]}"
                changed.createOrReplaceTempView(view)
                on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
                if window_in_key:  # only the recomputed range's files are scanned
                    assert target_window is not None
                    on += " AND " + target_window[1].sql(f"t.`{target_window[0]}`")
                session.sql(
                    f"MERGE INTO {target} t USING {view} s ON {on} "
                    "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
                )
                session.catalog.dropTempView(view)
            outcome.snapshot_id = current_snapshot_id(session, target)
            log.info(
                "%s: %d rows recomputed, %d inserted, %d updated, snapshot %s",
                target, rows_in, outcome.inserted, outcome.updated, outcome.snapshot_id,
            )
            return outcome
        finally:
            changed.unpersist()
    finally:
        src.unpersist()


def silver_contract(name: str) -> TableContract:
    return get_contract(f"silver.{name}")


def delete_absent(
    session: SparkSession,
    source: DataFrame,
    target: str,
    contract: TableContract,
    *,
    target_window: tuple[str, Window],
    scope: str = "TRUE",
) -> int:
    """Delete target rows of the recomputed range (``target_window`` and ``scope``, a SQL filter)
    whose key the recomputation no longer produces, e.g. an anomaly a late candle explained away.
    Returns the number of rows deleted (no commit when 0)."""
    keys = list(contract.key)
    column, window = target_window
    refresh(session, target)
    stale = (
        session.table(target)
        .where(window.condition(column))
        .where(scope)
        .select(*keys)
        .join(source.select(*keys), on=keys, how="left_anti")
        .localCheckpoint(eager=True)
    )
    try:
        n = stale.count()
        if n:
            view = f"cryptolake_stale_{uuid.uuid4().hex[:10]}"
            stale.createOrReplaceTempView(view)
            on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
            session.sql(f"MERGE INTO {target} t USING {view} s ON {on} WHEN MATCHED THEN DELETE")
            session.catalog.dropTempView(view)
            log.info("%s: deleted %d row(s) no longer produced", target, n)
        return n
    finally:
        stale.unpersist()


# -- rows dropped between layers --------------------------------------------------------------

#: Where Silver records what it dropped, like ``bronze.rejects`` for Bronze.
REJECTS = "rejects"


@dataclass(frozen=True)
class DropRule:
    """Rows matching ``condition`` (Spark SQL) are dropped with ``reason``."""

    condition: str
    reason: str


def not_null(*columns: str) -> list[DropRule]:
    """One rule per column: a row whose ``column`` is NULL (a value Bronze lacks, or one that
    does not cast to its Silver type) is dropped, the reason naming the column."""
    return [DropRule(f"`{c}` IS NULL", f"{c} is null or not a valid value") for c in columns]


@dataclass
class Dropped:
    """What one job dropped: counts per reason, and the rows recorded."""

    by_reason: dict[str, int] = field(default_factory=dict)
    recorded: int = 0
    #: frames ``drop_invalid`` cached for the job's later reads; :meth:`release` frees them
    cached: list[DataFrame] = field(default_factory=list)

    def release(self) -> None:
        """Unpersist the frames cached while dropping (the job is done with its input)."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


def drop_invalid(
    session: SparkSession,
    df: DataFrame,
    rules: Sequence[DropRule],
    *,
    job: str,
    source: str,
    rejects: str,
    run_id: str,
    dropped: Dropped,
    key: Sequence[str] = (),
) -> DataFrame:
    """``df`` without the rows any rule matches; those are counted in ``dropped`` and MERGEd into
    the ``rejects`` table (``catalog.namespace.rejects``) with the first matching rule's reason,
    the row as JSON and its hash — a rerun records nothing twice. Private columns (``_…``) are
    left out of the recorded row.

    The flagged rows are cached (``dropped.cached``; ``dropped.release()`` frees them): counting
    the rejects reads the input once, and the job's own reads of the result reuse that read
    instead of scanning Bronze again."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if not rules:
        return df
    reason = F.lit(None).cast("string")
    for rule in reversed(rules):
        reason = F.when(F.expr(rule.condition), F.lit(rule.reason)).otherwise(reason)
    flagged = df.withColumn("_drop_reason", reason).persist(StorageLevel.MEMORY_AND_DISK)
    dropped.cached.append(flagged)
    bad = flagged.where("_drop_reason IS NOT NULL")
    public = [c for c in df.columns if not c.startswith("_")]
    counts = bad.groupBy("_drop_reason").count().collect()
    if counts:
        for row in counts:
            dropped.by_reason[str(row[0])] = dropped.by_reason.get(str(row[0]), 0) + int(row[1])
        raw = F.to_json(F.struct(*[F.col(f"`{c}`") for c in public]))
        origin = (
            F.concat_ws(",", *[F.concat(F.lit(f"{k}="), F.col(f"`{k}`").cast("string")) for k in key])
            if key else F.lit(None).cast("string")
        )
        records = bad.select(
            F.lit(job).alias("job"),
            F.lit(source).alias("source_table"),
            origin.alias("origin"),
            F.col("_drop_reason").alias("reason"),
            raw.alias("raw"),
            F.sha2(raw, 256).alias("raw_sha256"),
            F.lit(run_id).alias("run_id"),
            F.current_timestamp().alias("rejected_at"),
        ).dropDuplicates(["job", "source_table", "reason", "raw_sha256"])
        refresh(session, rejects)
        on = ["job", "source_table", "reason", "raw_sha256"]
        # only what is not recorded yet (a rerun over the same bad rows commits nothing)
        known = session.table(rejects).where(F.col("job") == job).select(*on)
        records = records.join(known, on=on, how="left_anti").localCheckpoint(eager=True)
        new = records.count()
        if new:
            view = f"cryptolake_rejects_{uuid.uuid4().hex[:10]}"
            records.createOrReplaceTempView(view)
            session.sql(
                f"MERGE INTO {rejects} t USING {view} s ON t.job = s.job AND "
                "t.source_table = s.source_table AND t.reason = s.reason AND "
                "t.raw_sha256 = s.raw_sha256 WHEN NOT MATCHED THEN INSERT *"
            )
            session.catalog.dropTempView(view)
        dropped.recorded += new
        log.warning("%s: dropped %d row(s) of %s: %s", job, sum(int(r[1]) for r in counts), source,
                    {str(r[0]): int(r[1]) for r in counts})
    return flagged.where("_drop_reason IS NULL").drop("_drop_reason")
