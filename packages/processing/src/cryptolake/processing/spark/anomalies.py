"""``silver.anomalies``: returns whose rolling z-score against a *trailing* window exceeds a threshold.

For each symbol and interval (``1h`` from ``silver.ohlcv_1h``, ``1m`` from ``silver.ohlcv_1m``):

- ``return_t = ln(close_t / close_{t-1})`` when bar ``t-1`` opens exactly one interval before bar
  ``t`` (no return across a gap in the candles);
- ``mean_t`` and ``std_t`` (sample standard deviation) over the ``window_size`` bars *before*
  ``t`` — bar ``t`` itself is never part of its own reference window; a score needs all
  ``window_size`` returns present and ``std_t > 0``;
- ``zscore_t = (return_t - mean_t) / std_t``; rows with ``|zscore_t| > threshold`` are written,
  with the window size and threshold used.

A rerun over ``--from … --to`` recomputes the bars of that range (reading enough earlier bars for
their windows), inserts or updates what changed and deletes anomalies the corrected candles no
longer support.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from cryptolake.processing.spark._common import (
    MergeOutcome,
    SparkJobConfig,
    Window,
    delete_absent,
    merge_changes,
    read,
    silver_contract,
    table_exists,
)
from cryptolake.processing.spark._job import Change, SparkTransform

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cryptolake.core import JobContext

INTERVALS: dict[str, tuple[str, timedelta]] = {
    "1m": ("ohlcv_1m", timedelta(minutes=1)),
    "1h": ("ohlcv_1h", timedelta(hours=1)),
}


class AnomaliesConfig(SparkJobConfig):
    intervals: list[Literal["1m", "1h"]] = Field(
        default_factory=lambda: ["1h", "1m"],  # type: ignore[arg-type]
        description="candle intervals to score",
    )
    window_size: int = Field(24, ge=2, description="trailing bars in the reference window")
    threshold: float = Field(3.0, gt=0, description="flag returns with |z| above this")


def score_returns(bars: DataFrame, step: timedelta, window_size: int) -> DataFrame:
    """Add ``return``, ``zscore`` (null when not computable) to candles of one interval."""
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    by_time = W.partitionBy("symbol").orderBy("open_time")
    trailing = by_time.rowsBetween(-window_size, -1)
    prev_time = F.lag("open_time").over(by_time)
    prev_close = F.lag("close").over(by_time)
    contiguous = (F.unix_micros("open_time") - F.unix_micros(prev_time)) == int(
        step.total_seconds() * 1_000_000
    )
    with_ret = bars.select("symbol", "open_time", "close").withColumn(
        "return",
        F.when(
            contiguous & (prev_close > 0) & (F.col("close") > 0),
            F.log(F.col("close") / prev_close),
        ),
    )
    stats = with_ret.withColumns(
        {
            "_n": F.count("return").over(trailing),
            "_mean": F.avg("return").over(trailing),
            "_std": F.stddev_samp("return").over(trailing),
        }
    )
    return stats.withColumn(
        "zscore",
        F.when(
            (F.col("_n") == window_size) & (F.col("_std") > 0) & F.col("return").isNotNull(),
            (F.col("return") - F.col("_mean")) / F.col("_std"),
        ),
    ).drop("_n", "_mean", "_std")


class SilverAnomalies(SparkTransform):
    outputs: ClassVar[tuple[str, ...]] = ("anomalies",)
    config: AnomaliesConfig

    @classmethod
    def config_type(cls) -> type[AnomaliesConfig]:
        return AnomaliesConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [
            Change(self.ident(ctx, "silver", INTERVALS[i][0]), "updated_at", "open_time")
            for i in dict.fromkeys(self.config.intervals)
        ]

    def widen(self, window: Window) -> Window:
        # a changed bar moves the scores of the window_size bars after it
        step = max(INTERVALS[i][1] for i in self.config.intervals)
        return window.widened(after=step * (self.config.window_size + 1))

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        cfg = self.config
        target = self.ident(ctx, "silver", "anomalies")
        contract = silver_contract("anomalies")
        frames = []
        done: list[str] = []
        for interval in dict.fromkeys(cfg.intervals):
            table, step = INTERVALS[interval]
            ident = self.ident(ctx, "silver", table)
            if not table_exists(session, ident):
                continue
            win = window.aligned(step)
            # enough earlier bars for the first bar's window, with room for gaps in the candles
            reading = win.widened(before=step * (cfg.window_size + 1) * 3)
            bars = read(session, ident).where(reading.condition("open_time"))
            scored = score_returns(bars, step, cfg.window_size).where(win.condition("open_time"))
            frames.append(
                scored.where(F.abs("zscore") > cfg.threshold).select(
                    "symbol",
                    F.lit(interval).alias("interval"),
                    "open_time",
                    "return",
                    "zscore",
                    F.lit(cfg.window_size).alias("window_size"),
                    F.lit(float(cfg.threshold)).alias("threshold"),
                    F.current_timestamp().alias("detected_at"),
                )
            )
            done.append(interval)
        if not frames:
            return [], {"skipped": "no candle table exists yet"}
        rows = frames[0]
        for f in frames[1:]:
            rows = rows.unionByName(f)
        rows = rows.cache()
        try:
            # bars are whole-interval aligned per interval; the widest alignment bounds the range
            span = window.aligned(max(INTERVALS[i][1] for i in done))
            scope = "`interval` IN (" + ", ".join(f"'{i}'" for i in done) + ")"
            outcome = merge_changes(
                session, rows, target, contract, target_window=("open_time", span)
            )
            deleted = delete_absent(
                session, rows, target, contract, target_window=("open_time", window), scope=scope
            )
            if deleted:
                from cryptolake.processing.spark._common import current_snapshot_id

                outcome.snapshot_id = current_snapshot_id(session, target)
                outcome.details["deleted"] = deleted
        finally:
            rows.unpersist()
        return [outcome], {
            "intervals": done,
            "window_size": cfg.window_size,
            "threshold": cfg.threshold,
        }
