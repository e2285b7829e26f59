"""The shape every Spark transform shares: build from config, run over ``ctx``'s window, report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from cryptolake.core import JobContext, JobResult
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
    return utc(ts).isoformat()  # type: ignore[union-attr]


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

    def _incremental_window(
        self, session: SparkSession, ctx: JobContext, target: str
    ) -> tuple[Window | None, str | None, dict[str, object]]:
        """(window to recompute or None = nothing changed, new watermark, details)."""
        from pyspark.sql import functions as F

        props = _properties(session, target)
        previous = props.get(WATERMARK_PROPERTY)
        since = None
        if previous:
            since = datetime.fromisoformat(previous) - timedelta(
                minutes=self.config.incremental_slack_minutes)
        spans: list[tuple[datetime, datetime]] = []
        mark = None
        for change in self.changes(ctx):
            if not table_exists(session, change.table):
                continue
            df = read(session, change.table).where(change.where)
            event, changed = F.col(change.event), F.col(change.changed)
            if since is None:  # first run: everything; only the watermark is needed
                row = df.agg(F.max(changed)).first()
                if row is not None and row[0] is not None:
                    mark = row[0] if mark is None else max(mark, row[0])
                continue
            # the changed event times, one range per UTC day they fall on: a change on a few
            # days years apart recomputes those days, not the years between them
            rows = (
                df.where(changed > F.lit(since))
                .groupBy(F.date_trunc("day", event).alias("day"))
                .agg(F.min(event), F.max(event), F.max(changed))
                .collect()
            )
            for _, lo, hi, newest in rows:
                if lo is None:
                    continue
                spans.append((lo, hi + timedelta(microseconds=1)))
                mark = newest if mark is None else max(mark, newest)
        info: dict[str, object] = {"incremental_since": since.isoformat() if since else None}
        if mark is None:
            return None, None, info
        if since is None:
            return Window(), _iso(mark), info
        info["changed_days"] = len(spans)
        return self.widen(Window.union(spans)), _iso(mark), info

    def run(self, ctx: JobContext) -> JobResult:
        window = Window.of(ctx)
        ensure_tables(
            ctx.settings,
            [(silver_contract(name), self.config.silver_namespace) for name in self.outputs],
        )
        session = spark(f"cryptolake-{ctx.name}")
        target = self.ident(ctx, "silver", self.outputs[0])
        mark = None
        extra: dict[str, object] = {}
        if self.config.incremental and ctx.start is None and ctx.end is None and self.changes(ctx):
            found, mark, extra = self._incremental_window(session, ctx, target)
            if found is None:
                log.info("%s: no input changed since the last run; nothing to do", ctx.name)
                return JobResult(details={"window": "no input changed", **extra})
            window = found
        log.info("%s over %s", ctx.name, window.describe())
        self.dropped = Dropped()
        from cryptolake.processing.spark._progress import spark_progress

        with spark_progress(session, ctx):
            outcomes, details = self.compute(session, ctx, window)
        if mark is not None:
            session.sql(
                f"ALTER TABLE {target} SET TBLPROPERTIES ('{WATERMARK_PROPERTY}' = '{mark}')"
            )
        result = JobResult(details={"window": window.describe(), **extra, **details})
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
