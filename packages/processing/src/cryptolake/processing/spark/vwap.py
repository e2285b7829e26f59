"""``silver.vwap``: volume-weighted average price over sliding event-time windows.

``vwap = Σ(price × quantity) / Σ quantity`` over the aggregate trades whose ``trade_time`` falls in
``[window_start, window_end)``; windows are ``window_minutes`` long and start every
``slide_minutes`` (default 5 and 1), aligned to the epoch. ``trade_count`` counts exchange trades
(``last_trade_id - first_trade_id + 1`` per aggregate trade), like the candles.

Two paths write the same rows:

- the batch transform (:class:`SilverVwap`) recomputes every window of ``--from … --to`` from
  ``silver.trades`` — exact, deduplicated, any lateness;
- the stream (:func:`start_vwap_stream`, run next to the Bronze stream when its ``vwap`` is on)
  keeps the windows fresh from Kafka as trades arrive, with a watermark of ``watermark_minutes``:
  a trade later than that no longer updates its windows there, and the next batch run corrects
  them.

Sums are taken in decimals so a rerun gives bit-identical values; the division is done in double.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from cryptolake.processing.spark import _bronze
from cryptolake.processing.spark._common import (
    MergeOutcome,
    SparkJobConfig,
    Window,
    ensure_tables,
    merge_changes,
    read,
    silver_contract,
    table_exists,
)
from cryptolake.processing.spark._job import Change, SparkTransform

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cryptolake.core import JobContext, Settings


class VwapConfig(SparkJobConfig):
    window_minutes: int = Field(5, ge=1, description="length of each VWAP window")
    slide_minutes: int = Field(1, ge=1, description="a new window starts every so many minutes")
    watermark_minutes: int = Field(
        10, ge=0, description="streaming: how late a trade may arrive and still update its windows"
    )

    @model_validator(mode="after")
    def _slide_divides(self) -> VwapConfig:
        if self.slide_minutes > self.window_minutes:
            raise ValueError(
                f"vwap: slide_minutes={self.slide_minutes} exceeds window_minutes="
                f"{self.window_minutes}; trades between windows would be skipped"
            )
        return self


def vwap_windows(trades: DataFrame, window_minutes: int, slide_minutes: int) -> DataFrame:
    """Per symbol and sliding window: vwap, volume, trade_count (plus the decimal sums)."""
    from pyspark.sql import functions as F

    price = F.col("price").cast(_bronze.PRICE)
    qty = F.col("quantity").cast(_bronze.TRADE_QTY)
    w = F.window("trade_time", f"{window_minutes} minutes", f"{slide_minutes} minutes")
    return (
        trades.groupBy("symbol", w.alias("w"))
        .agg(
            F.sum(price * qty).alias("pq"),
            F.sum(qty).alias("q"),
            F.sum(
                F.coalesce(F.col("last_trade_id") - F.col("first_trade_id") + 1, F.lit(1))
            ).alias("trade_count"),
        )
        .where("q > 0")
        .select(
            "symbol",
            F.col("w.start").alias("window_start"),
            F.col("w.end").alias("window_end"),
            (F.col("pq").cast("double") / F.col("q").cast("double")).alias("vwap"),
            F.col("q").cast("double").alias("volume"),
            F.col("trade_count").cast("long").alias("trade_count"),
            F.current_timestamp().alias("updated_at"),
        )
    )


class SilverVwap(SparkTransform):
    outputs: ClassVar[tuple[str, ...]] = ("vwap",)
    config: VwapConfig

    @classmethod
    def config_type(cls) -> type[VwapConfig]:
        return VwapConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [Change(self.ident(ctx, "silver", "trades"), "updated_at", "trade_time")]

    def widen(self, window: Window) -> Window:
        # a trade at t belongs to the windows starting in (t - window, t]
        return window.widened(before=timedelta(minutes=self.config.window_minutes))

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        cfg = self.config
        trades_ident = self.ident(ctx, "silver", "trades")
        target = self.ident(ctx, "silver", "vwap")
        if not table_exists(session, trades_ident):
            return [], {"skipped": f"{trades_ident} does not exist yet"}
        # windows *starting* in [from, to), built from every trade they cover
        starts = window.aligned(timedelta(minutes=cfg.slide_minutes))
        needed = starts.widened(after=timedelta(minutes=cfg.window_minutes))
        trades = read(session, trades_ident).where(needed.condition("trade_time"))
        rows = vwap_windows(trades, cfg.window_minutes, cfg.slide_minutes).where(
            starts.condition("window_start")
        )
        outcome = merge_changes(  # the streaming VWAP may write silver.vwap meanwhile
            session, rows, target, silver_contract("vwap"),
            target_window=("window_start", starts), append_new=False,
        )
        return [outcome], {
            "window_minutes": cfg.window_minutes,
            "slide_minutes": cfg.slide_minutes,
        }


# -- the streaming path ------------------------------------------------------------------------


def start_vwap_stream(
    session: SparkSession,
    settings: Settings,
    *,
    name: str,
    silver_namespace: str,
    checkpoint: Path,
    trigger_seconds: float,
    config: VwapConfig,
) -> Any:
    """Kafka ``binance.aggtrade`` → sliding-window VWAP → ``MERGE INTO silver.vwap``, streaming.

    Trades are deduplicated on (symbol, agg_trade_id) within the watermark; a window's row is
    rewritten each micro-batch it changes (update mode) until the watermark passes its end. Replaying
    a batch after a crash recomputes the same rows from the checkpointed state, and the change-only
    MERGE writes nothing twice.
    """
    from pyspark.sql import functions as F

    from cryptolake.processing.spark import _routes

    route = next(r for r in _routes.DEFAULT_ROUTES if r.topic == "binance.aggtrade")
    contract = silver_contract("vwap")
    target = f"{settings.lakehouse.catalog}.{silver_namespace}.vwap"
    ensure_tables(settings, [(contract, silver_namespace)])
    session.conf.set("spark.sql.caseSensitive", "true")
    trades = (
        session.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        .option("subscribe", settings.kafka.topic_prefix + route.topic)
        .option("startingOffsets", "earliest")
        .load()
        .withColumn("_p", F.from_json(F.col("value").cast("string"), route.schema))
        .where(_routes.valid_condition(route))
        .select(
            F.upper(_routes.payload("s")).alias("symbol"),
            _routes.payload("a").alias("agg_trade_id"),
            _routes.payload("p").cast(_bronze.PRICE).alias("price"),
            _routes.payload("q").cast(_bronze.TRADE_QTY).alias("quantity"),
            _routes.payload("f").alias("first_trade_id"),
            _routes.payload("l").alias("last_trade_id"),
            F.timestamp_millis(_routes.payload("T")).alias("trade_time"),
        )
        .withWatermark("trade_time", f"{config.watermark_minutes} minutes")
        .dropDuplicatesWithinWatermark(["symbol", "agg_trade_id"])
    )
    windows = vwap_windows(trades, config.window_minutes, config.slide_minutes)

    def merge_batch(batch: DataFrame, batch_id: int) -> None:
        session_ = batch.sparkSession
        bounds = batch.agg(F.min("window_start"), F.max("window_start")).collect()[0]
        if bounds[0] is None:
            return
        touched = Window(bounds[0], bounds[1] + timedelta(microseconds=1))
        outcome = merge_changes(session_, batch, target, contract,
                                target_window=("window_start", touched), append_new=False)
        log.info("vwap stream batch %d: %d windows updated, %d inserted", batch_id,
                 outcome.updated, outcome.inserted)

    return (
        windows.writeStream.queryName(f"cryptolake-{name}-vwap")
        .outputMode("update")
        .option("checkpointLocation", str(checkpoint))
        .trigger(processingTime=f"{int(trigger_seconds * 1000)} milliseconds")
        .foreachBatch(merge_batch)
        .start()
    )
