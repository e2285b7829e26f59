"""The shape every Spark transform shares: build from config, run over ``ctx``'s window, report."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from cryptolake.core import JobContext, JobResult
from cryptolake.processing._laps import Laps
from cryptolake.processing.spark._common import (
    REJECTS,
    Dropped,
    DropRule,
    MergeOutcome,
    SparkJobConfig,
    Window,
    drop_invalid,
    ensure_tables,
    read,
    silver_contract,
    spark,
    table_exists,
    utc,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


WATERMARK_PROPERTY = "cryptolake.incremental-watermark"
#: JSON: Bronze input table -> the snapshot the last incremental run read it at
SNAPSHOTS_PROPERTY = "cryptolake.incremental-snapshots"


@dataclass(frozen=True)
class Change:
    """An input of an incremental run: rows with ``changed`` newer than the watermark (and
    matching ``where``) mark their ``event`` time range for recomputation."""

    table: str
    changed: str
    event: str
    where: str = "TRUE"


def _properties(session: SparkSession, ident: str) -> dict[str, str]:
    rows = session.sql(f"SHOW TBLPROPERTIES {ident}").collect()
    return {str(r[0]): str(r[1]) for r in rows}


def _iso(ts: datetime) -> str:
    return utc(ts).isoformat()


class SparkTransform:
    """Base of the Bronze → Silver jobs: ``run(ctx)`` ensures the outputs, computes, MERGEs.

    Subclasses set :attr:`outputs` (Silver table names) and implement :meth:`compute`, which
    returns the merge outcomes and any details worth reporting.
    """

    outputs: ClassVar[tuple[str, ...]] = ()
    config: SparkJobConfig

    def __init__(self, config: BaseModel | None = None) -> None:
        self.dropped = Dropped()
        model = type(self).config_type()
        self.config = config if isinstance(config, model) else model.model_validate(
            config.model_dump() if isinstance(config, BaseModel) else (config or {})
        )

    @classmethod
    def config_type(cls) -> type[SparkJobConfig]:
        return SparkJobConfig

    def ident(self, ctx: JobContext, layer: str, name: str) -> str:
        ns = self.config.silver_namespace if layer == "silver" else self.config.bronze_namespace
        return f"{ctx.settings.lakehouse.catalog}.{ns}.{name}"

    def changes(self, ctx: JobContext) -> list[Change]:
        """Inputs whose changed rows (``changed`` column newer than the watermark) say which
        event-time range an incremental run recomputes. Empty: always a full run."""
        return []

    def drop(
        self,
        session: SparkSession,
        ctx: JobContext,
        df: DataFrame,
        rules: Sequence[DropRule],
        *,
        source: str,
        key: Sequence[str] = (),
    ) -> DataFrame:
        """``df`` without the rows ``rules`` reject; each dropped row is counted (the job's
        ``rejected``) and recorded in ``silver.rejects`` with its reason."""
        ensure_tables(ctx.settings, [(silver_contract(REJECTS), self.config.silver_namespace)])
        return drop_invalid(
            session, df, rules, job=ctx.name, source=source,
            rejects=self.ident(ctx, "silver", REJECTS), run_id=ctx.run_id,
            dropped=self.dropped, key=key,
        )

    def widen(self, window: Window) -> Window:
        """The range to recompute when input rows of ``window`` changed (e.g. later windows)."""
        return window

    def _changed_rows(
        self, session: SparkSession, change: Change, since: datetime | None,
        seen: dict[str, int], now: int | None,
    ) -> tuple[DataFrame, str]:
        """The rows of ``change.table`` that changed since the last run, and how they were found.

        Bronze is append-only: rows appended by snapshots after the one the last run recorded
        (``seen``) are exactly the new ones, whatever their ``ingested_at`` (a replay stamps its
        start and may commit hours later). Otherwise (no recorded snapshot, or it expired):
        ``changed`` later than ``since`` (the watermark less the slack)."""
        from pyspark.sql import functions as F

        before = seen.get(change.table)
        if change.changed == "ingested_at" and before is not None and now is not None:
            incremental = (
                session.read.format("iceberg")
                .option("start-snapshot-id", str(before))
                .option("end-snapshot-id", str(now))
                .load(change.table)
            )
            return incremental.where(change.where), f"snapshots after {before}"
        df = read(session, change.table).where(change.where)
        slack = (self.config.incremental_slack_minutes if change.changed == "ingested_at"
                 else self.config.incremental_silver_slack_minutes)
        assert since is not None
        cutoff = since - timedelta(minutes=slack)
        return df.where(F.col(change.changed) > F.lit(cutoff)), f"{change.changed} > {_iso(cutoff)}"

    def _incremental_window(
        self, session: SparkSession, ctx: JobContext, target: str
    ) -> tuple[Window | None, str | None, dict[str, int], dict[str, object]]:
        """(window to recompute or None = nothing changed, new watermark, the Bronze input
        snapshots read — committed with the watermark —, details)."""
        from pyspark.sql import functions as F

        from cryptolake.processing.spark._common import current_snapshot_id

        props = _properties(session, target)
        previous = props.get(WATERMARK_PROPERTY)
        since = datetime.fromisoformat(previous) if previous else None
        seen = {k: int(v) for k, v in json.loads(props.get(SNAPSHOTS_PROPERTY) or "{}").items()
                if v is not None}
        spans: list[tuple[datetime, datetime]] = []
        mark = None
        how: dict[str, str] = {}
        read_snapshots: dict[str, int] = {}
        for change in self.changes(ctx):
            if not table_exists(session, change.table):
                continue
            event, changed = F.col(change.event), F.col(change.changed)
            now = current_snapshot_id(session, change.table)
            if change.changed == "ingested_at" and now is not None:
                read_snapshots[change.table] = now
            if since is None:  # first run: everything; only the watermark is needed
                row = read(session, change.table).where(change.where).agg(F.max(changed)).first()
                if row is not None and row[0] is not None:
                    mark = row[0] if mark is None else max(mark, row[0])
                continue
            if now is not None and seen.get(change.table) == now:
                how[change.table] = "no new snapshot"
                continue
            # the changed event times, one range per UTC day they fall on: a change on a few
            # days years apart recomputes those days, not the years between them
            def days(df: DataFrame, event: Any = event, changed: Any = changed) -> list[Any]:
                return (
                    df.groupBy(F.date_trunc("day", event).alias("day"))
                    .agg(F.min(event), F.max(event), F.max(changed))
                    .collect()
                )

            by_snapshot = change.table in read_snapshots and change.table in seen
            df, how[change.table] = self._changed_rows(session, change, since, seen, now)
            try:
                rows = days(df)
            except Exception as exc:  # the recorded snapshot expired: by time instead
                if not by_snapshot:
                    raise
                log.info("%s: incremental read of %s failed (%s); by time instead", ctx.name,
                         change.table, exc)
                df, how[change.table] = self._changed_rows(session, change, since, {}, now)
                rows = days(df)
            for _, lo, hi, newest in rows:
                if lo is None:
                    continue
                spans.append((lo, hi + timedelta(microseconds=1)))
                mark = newest if mark is None else max(mark, newest)
        info: dict[str, object] = {"incremental_since": since.isoformat() if since else None}
        if how:
            info["changed_by"] = how
        if mark is None:
            return None, None, read_snapshots, info
        if since is None:
            return Window(), _iso(mark), read_snapshots, info
        # rows found by snapshot may be stamped before the watermark: it never goes back
        mark = max(utc(mark), since)
        info["changed_days"] = len(spans)
        return self.widen(Window.union(spans)), _iso(mark), read_snapshots, info

    def run(self, ctx: JobContext) -> JobResult:
        window = Window.of(ctx)
        laps = Laps()
        ensure_tables(
            ctx.settings,
            [(silver_contract(name), self.config.silver_namespace) for name in self.outputs],
        )
        session = spark(f"cryptolake-{ctx.name}")
        target = self.ident(ctx, "silver", self.outputs[0])
        laps.lap("setup")
        mark = None
        read_snapshots: dict[str, int] = {}
        extra: dict[str, object] = {}
        if self.config.incremental and ctx.start is None and ctx.end is None and self.changes(ctx):
            found, mark, read_snapshots, extra = self._incremental_window(session, ctx, target)
            laps.lap("changes")
            if found is None:
                log.info("%s: no input changed since the last run; nothing to do", ctx.name)
                return JobResult(details={"window": "no input changed", **extra,
                                          "seconds": laps.seconds})
            window = found
        log.info("%s over %s", ctx.name, window.describe())
        self.dropped = Dropped()
        from cryptolake.processing.spark._progress import spark_progress

        try:
            with spark_progress(session, ctx):
                outcomes, details = self.compute(session, ctx, window)
        finally:
            self.dropped.release()
        laps.lap("compute")
        if mark is not None:
            snapshots = json.dumps(read_snapshots, sort_keys=True)
            session.sql(
                f"ALTER TABLE {target} SET TBLPROPERTIES ('{WATERMARK_PROPERTY}' = '{mark}', "
                f"'{SNAPSHOTS_PROPERTY}' = '{snapshots}')"
            )
            laps.lap("watermark")
        result = JobResult(details={"window": window.describe(), **extra, **details,
                                    "seconds": laps.seconds})
        result.rejected = self.dropped.total
        if self.dropped.total:
            result.details["dropped"] = dict(sorted(self.dropped.by_reason.items()))
        for o in outcomes:
            result.rows_in += o.rows_in
            result.rows_out += o.rows_out
            result.snapshot_ids[o.table] = o.snapshot_id
            result.details.setdefault("tables", {})[o.table] = {
                "recomputed": o.rows_in, "inserted": o.inserted, "updated": o.updated,
                **o.details,
            }
            if o.snapshot_id is not None:
                ctx.committed(o.table, o.snapshot_id, o.rows_out)
        return result

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        raise NotImplementedError
