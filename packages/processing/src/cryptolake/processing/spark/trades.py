"""``silver.trades``: Binance aggregate trades, typed and deduplicated on (symbol, agg_trade_id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from cryptolake.processing.spark import _bronze
from cryptolake.processing.spark._common import (
    MergeOutcome,
    SparkJobConfig,
    Window,
    merge_changes,
    not_null,
    silver_contract,
    table_exists,
)
from cryptolake.processing.spark._job import Change, SparkTransform

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cryptolake.core import JobContext


class TradesConfig(SparkJobConfig):
    bronze_table: str = Field("binance_agg_trades", description="Bronze aggregate trades")


def latest_per_key(df: DataFrame, keys: list[str], order: list[str]) -> DataFrame:
    """One row per key: the one ranked last by ``order`` (e.g. the latest Kafka offset)."""
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    w = W.partitionBy(*keys).orderBy(*[F.col(c).desc_nulls_last() for c in order])
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


class SilverTrades(SparkTransform):
    outputs: ClassVar[tuple[str, ...]] = ("trades",)
    config: TradesConfig

    @classmethod
    def config_type(cls) -> type[TradesConfig]:
        return TradesConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [Change(self.ident(ctx, "bronze", self.config.bronze_table), "ingested_at",
                       "trade_time")]

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        source = self.ident(ctx, "bronze", self.config.bronze_table)
        target = self.ident(ctx, "silver", "trades")
        if not table_exists(session, source):
            return [], {"skipped": f"{source} does not exist yet"}
        raw = _bronze.aggtrades(session, source).where(window.condition("trade_time"))
        valid = self.drop(
            session, ctx, raw,
            not_null("symbol", "agg_trade_id", "price", "quantity", "trade_time"),
            source=source, key=("symbol", "agg_trade_id"),
        )
        valid = valid.cache()
        bronze_rows = valid.count()
        trades = latest_per_key(valid, ["symbol", "agg_trade_id"], ["_order"]).select(
            "symbol",
            "agg_trade_id",
            F.col("price").cast("double").alias("price"),
            F.col("quantity").cast("double").alias("quantity"),
            "first_trade_id",
            "last_trade_id",
            "trade_time",
            "event_time",
            "is_buyer_maker",
            F.current_timestamp().alias("updated_at"),
        )
        try:
            outcome = merge_changes(
                session, trades, target, silver_contract("trades"),
                target_window=("trade_time", window),
            )
        finally:
            valid.unpersist()
        return [outcome], {"bronze_rows": bronze_rows,
                           "duplicates_dropped": bronze_rows - outcome.rows_in}
