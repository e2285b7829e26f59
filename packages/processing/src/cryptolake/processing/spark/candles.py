"""``silver.ohlcv_1m`` and ``silver.ohlcv_1h``: candles from trades, reconciled with exchange klines.

One-minute candles
    Built from ``silver.trades`` (open/close = first/last aggregate trade by id, volume = sum of
    quantities, quote volume = sum of price × quantity, trade count = exchange trades, i.e.
    ``sum(last_trade_id - first_trade_id + 1)``) and compared with the exchange's **closed** 1m
    kline of the same minute. Where a closed kline exists its values are kept (the exchange's candle
    is the reference; the trade stream may have gaps), ``source`` is ``trades+klines`` and
    ``kline_mismatch`` says whether trades and kline disagree on any of open, high, low, close,
    volume or trade count. A minute with trades only is ``trades``; with a kline only, ``klines``
    (an open kline gives the in-progress candle until the closed one arrives).

One-hour candles
    Ranked per hour: the exchange's **closed** 1h kline (``klines``); else a **complete** roll-up
    of the hour's 60 one-minute candles (``1m``); else the exchange's still-open 1h kline; else a
    partial roll-up (an hour in progress, updated by the next run). An open kline is a snapshot
    of an unfinished hour, so it never outranks the 60 finished minutes of the same hour.

Every run recomputes whole buckets of its window from all their input, so a late trade or kline
updates exactly the candle it belongs to; the change-only MERGE makes a rerun a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from cryptolake.processing.spark import _bronze
from cryptolake.processing.spark._common import (
    MergeOutcome,
    SparkJobConfig,
    Window,
    merge_changes,
    not_null,
    read,
    silver_contract,
    table_exists,
)
from cryptolake.processing.spark._job import Change, SparkTransform
from cryptolake.processing.spark.trades import latest_per_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cryptolake.core import JobContext

log = logging.getLogger(__name__)

CANDLE_VALUES = ("open", "high", "low", "close", "volume", "quote_volume", "trade_count")


#: Which candidate becomes an hour's candle: the lowest rank present.
HOURLY_RANK = {"closed_kline": 0, "complete_rollup": 1, "open_kline": 2, "partial_rollup": 3}


class CandlesConfig(SparkJobConfig):
    klines_table: str = Field("binance_klines", description="Bronze klines (all intervals)")
    max_reported_mismatches: int = Field(20, ge=0, description="mismatches listed in the result")


#: A kline without these cannot be a candle (a price that does not cast to a decimal is NULL).
KLINE_REQUIRED = ("symbol", "open_time", "open", "high", "low", "close", "volume")


def best_klines(
    session: SparkSession, ident: str, interval: str, window: Window,
    drop: Callable[[DataFrame], DataFrame] | None = None,
) -> DataFrame:
    """One kline per (symbol, open_time): the closed one if any, else the latest update.

    ``drop`` removes (and records) the klines that cannot be candles; without it they are
    filtered out silently (only for callers that recorded them already)."""
    from pyspark.sql import functions as F

    df = (
        _bronze.klines(session, ident)
        .where(F.col("interval") == interval)
        .where(window.condition("open_time"))
    )
    if drop is not None:
        df = drop(df)
    else:
        df = df.where(" AND ".join(f"{c} IS NOT NULL" for c in KLINE_REQUIRED))
    df = df.withColumn("_closed", F.col("is_closed").cast("int"))
    return latest_per_key(df, ["symbol", "open_time"], ["_closed", "event_time", "_order"]).drop(
        "_closed"
    )


def trade_candles(trades: DataFrame, unit: str) -> DataFrame:
    """Candles of ``unit`` ('minute' | 'hour') from typed trades (price, quantity as doubles)."""
    from pyspark.sql import functions as F

    price = F.col("price").cast(_bronze.PRICE)
    qty = F.col("quantity").cast(_bronze.QTY)
    return (
        trades.withColumn("open_time", F.date_trunc(unit, "trade_time"))
        .groupBy("symbol", "open_time")
        .agg(
            F.min_by(price, "agg_trade_id").alias("open"),
            F.max(price).alias("high"),
            F.min(price).alias("low"),
            F.max_by(price, "agg_trade_id").alias("close"),
            F.sum(qty).alias("volume"),
            F.sum(price * F.col("quantity").cast(_bronze.TRADE_QTY)).alias("quote_volume"),
            F.sum(
                F.coalesce(F.col("last_trade_id") - F.col("first_trade_id") + 1, F.lit(1))
            ).alias("trade_count"),
        )
    )


def reconcile(trades: DataFrame, klines: DataFrame) -> DataFrame:
    """Full outer join of trade candles and klines → candle rows with source and mismatch flag."""
    from pyspark.sql import functions as F

    t = trades.select("symbol", "open_time", *[F.col(c).alias(f"t_{c}") for c in CANDLE_VALUES])
    k = klines.select(
        "symbol", "open_time", "is_closed", *[F.col(c).alias(f"k_{c}") for c in CANDLE_VALUES]
    )
    j = t.join(k, ["symbol", "open_time"], "full_outer")
    has_t = F.col("t_open").isNotNull()
    has_k = F.col("k_open").isNotNull()
    use_k = has_k & (F.col("is_closed") | ~has_t)
    disagree = F.lit(False)
    for c in CANDLE_VALUES:
        if c == "quote_volume":  # the exchange's quote volume is rounded; not compared
            continue
        disagree = disagree | ~F.col(f"t_{c}").eqNullSafe(F.col(f"k_{c}"))
    return j.select(
        "symbol",
        "open_time",
        *[
            F.when(use_k, F.col(f"k_{c}")).otherwise(F.col(f"t_{c}")).cast(
                "long" if c == "trade_count" else "double"
            ).alias(c)
            for c in CANDLE_VALUES
        ],
        F.when(has_t & has_k & F.col("is_closed"), F.lit("trades+klines"))
        .when(use_k, F.lit("klines"))
        .otherwise(F.lit("trades"))
        .alias("source"),
        F.when(has_t & has_k & F.col("is_closed"), disagree).alias("kline_mismatch"),
        F.current_timestamp().alias("updated_at"),
    )


class _KlineCandles(SparkTransform):
    def _kline_drop(
        self, session: SparkSession, ctx: JobContext, source: str
    ) -> Callable[[DataFrame], DataFrame]:
        return lambda df: self.drop(session, ctx, df, not_null(*KLINE_REQUIRED), source=source,
                                    key=("symbol", "interval", "open_time"))


class SilverOhlcv1m(_KlineCandles):
    outputs: ClassVar[tuple[str, ...]] = ("ohlcv_1m",)
    config: CandlesConfig

    @classmethod
    def config_type(cls) -> type[CandlesConfig]:
        return CandlesConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [
            Change(self.ident(ctx, "silver", "trades"), "updated_at", "trade_time"),
            Change(self.ident(ctx, "bronze", self.config.klines_table), "ingested_at",
                   "open_time", "`interval` = '1m'"),
        ]

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        win = window.aligned(timedelta(minutes=1))
        trades_ident = self.ident(ctx, "silver", "trades")
        klines_ident = self.ident(ctx, "bronze", self.config.klines_table)
        target = self.ident(ctx, "silver", "ohlcv_1m")
        parts = []
        if table_exists(session, trades_ident):
            trades = read(session, trades_ident).where(win.condition("trade_time"))
            parts.append("trades")
        else:
            trades = None
        klines = (
            best_klines(session, klines_ident, "1m", win, self._kline_drop(session, ctx, klines_ident))
            if table_exists(session, klines_ident)
            else None
        )
        if trades is None and klines is None:
            return [], {"skipped": f"neither {trades_ident} nor {klines_ident} exists"}
        t = trade_candles(trades, "minute") if trades is not None else _empty_candles(session)
        k = klines if klines is not None else _empty_klines(session)
        candles = reconcile(t, k).cache()
        try:
            mismatches = (
                candles.where("kline_mismatch")
                .orderBy("symbol", "open_time")
                .select("symbol", F.date_format("open_time", "yyyy-MM-dd'T'HH:mm'Z'").alias("t"))
            )
            n_mismatch = mismatches.count()
            if n_mismatch:
                shown = [
                    f"{r['symbol']}@{r['t']}"
                    for r in mismatches.limit(self.config.max_reported_mismatches).collect()
                ]
                log.warning(
                    "ohlcv_1m: %d candle(s) where trades and the exchange's kline disagree: %s",
                    n_mismatch, ", ".join(shown),
                )
            else:
                shown = []
            outcome = merge_changes(
                session, candles, target, silver_contract("ohlcv_1m"),
                target_window=("open_time", win),
            )
        finally:
            candles.unpersist()
        return [outcome], {"kline_mismatches": n_mismatch, "mismatched_candles": shown}


class SilverOhlcv1h(_KlineCandles):
    outputs: ClassVar[tuple[str, ...]] = ("ohlcv_1h",)
    config: CandlesConfig

    @classmethod
    def config_type(cls) -> type[CandlesConfig]:
        return CandlesConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [
            Change(self.ident(ctx, "bronze", self.config.klines_table), "ingested_at",
                   "open_time", "`interval` = '1h'"),
            Change(self.ident(ctx, "silver", "ohlcv_1m"), "updated_at", "open_time"),
        ]

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        win = window.aligned(timedelta(hours=1))
        m1_ident = self.ident(ctx, "silver", "ohlcv_1m")
        klines_ident = self.ident(ctx, "bronze", self.config.klines_table)
        target = self.ident(ctx, "silver", "ohlcv_1h")
        pieces: list[DataFrame] = []
        have_klines = table_exists(session, klines_ident)
        if have_klines:
            k = best_klines(session, klines_ident, "1h", win,
                            self._kline_drop(session, ctx, klines_ident))
            pieces.append(
                k.select(
                    "symbol", "open_time",
                    *[F.col(c).cast("long" if c == "trade_count" else "double").alias(c)
                      for c in CANDLE_VALUES],
                    F.lit("klines").alias("source"),
                    F.when(F.coalesce(F.col("is_closed"), F.lit(False)), F.lit(HOURLY_RANK["closed_kline"]))
                    .otherwise(F.lit(HOURLY_RANK["open_kline"])).alias("_rank"),
                )
            )
        if table_exists(session, m1_ident):
            m = read(session, m1_ident).where(win.condition("open_time"))
            price = lambda c: F.col(c).cast(_bronze.PRICE)  # noqa: E731
            qty = lambda c: F.col(c).cast(_bronze.QTY)  # noqa: E731
            rolled = (
                m.withColumn("hour", F.date_trunc("hour", "open_time"))
                .groupBy("symbol", "hour")
                .agg(
                    F.min_by(price("open"), "open_time").alias("open"),
                    F.max(price("high")).alias("high"),
                    F.min(price("low")).alias("low"),
                    F.max_by(price("close"), "open_time").alias("close"),
                    F.sum(qty("volume")).alias("volume"),
                    F.sum(qty("quote_volume")).alias("quote_volume"),
                    F.sum("trade_count").alias("trade_count"),
                    F.countDistinct("open_time").alias("_minutes"),
                )
            )
            pieces.append(
                rolled.select(
                    "symbol", F.col("hour").alias("open_time"),
                    *[F.col(c).cast("long" if c == "trade_count" else "double").alias(c)
                      for c in CANDLE_VALUES],
                    F.lit("1m").alias("source"),
                    F.when(F.col("_minutes") >= 60, F.lit(HOURLY_RANK["complete_rollup"]))
                    .otherwise(F.lit(HOURLY_RANK["partial_rollup"])).alias("_rank"),
                )
            )
        if not pieces:
            return [], {"skipped": f"neither {klines_ident} nor {m1_ident} exists"}
        union = pieces[0]
        for p in pieces[1:]:
            union = union.unionByName(p)
        from pyspark.sql import Window as W

        w = W.partitionBy("symbol", "open_time").orderBy("_rank")
        candles = (
            union.withColumn("_rn", F.row_number().over(w))
            .where("_rn = 1")
            .drop("_rn", "_rank")
            .withColumn("kline_mismatch", F.lit(None).cast("boolean"))
            .withColumn("updated_at", F.current_timestamp())
        )
        outcome = merge_changes(
            session, candles, target, silver_contract("ohlcv_1h"),
            target_window=("open_time", win),
        )
        return [outcome], {}


def _empty_candles(session: SparkSession) -> DataFrame:
    return session.createDataFrame(
        [],
        f"symbol string, open_time timestamp, open {_bronze.PRICE}, high {_bronze.PRICE}, "
        f"low {_bronze.PRICE}, close {_bronze.PRICE}, volume {_bronze.QTY}, "
        f"quote_volume {_bronze.QTY}, trade_count bigint",
    )


def _empty_klines(session: SparkSession) -> DataFrame:
    return session.createDataFrame(
        [],
        f"symbol string, open_time timestamp, is_closed boolean, open {_bronze.PRICE}, "
        f"high {_bronze.PRICE}, low {_bronze.PRICE}, close {_bronze.PRICE}, volume {_bronze.QTY}, "
        f"quote_volume {_bronze.QTY}, trade_count bigint",
    )
