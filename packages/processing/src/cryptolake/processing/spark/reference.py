"""``silver.market_daily`` (CoinGecko) and ``silver.fear_greed`` (Alternative.me): one row per day.

market_daily
    One row per (coin, UTC day): the CoinGecko point of that day closest to 00:00 UTC (daily
    series carry exactly that point; hourly series contribute their first point of the day; the
    intraday "now" point stands for today until a later fetch brings an earlier one). Among copies
    of the same point the latest fetch wins. ``symbol`` comes from ``symbols`` (CoinGecko id →
    exchange symbol); coins without a mapping are skipped and listed in the result.

fear_greed
    One row per UTC day; when a day was fetched several times the latest fetch wins.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from cryptolake.processing.spark import _bronze
from cryptolake.processing.spark._common import (
    DropRule,
    MergeOutcome,
    SparkJobConfig,
    Window,
    merge_changes,
    not_null,
    silver_contract,
    table_exists,
)
from cryptolake.processing.spark._job import Change, SparkTransform
from cryptolake.processing.spark.trades import latest_per_key

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cryptolake.core import JobContext


def _followed_coins() -> dict[str, str]:
    """CoinGecko id -> exchange symbol of the followed coins (``CRYPTOLAKE_MARKETS__COINS``)."""
    from cryptolake.core.settings import get_settings

    return dict(get_settings().markets.coins)


class MarketDailyConfig(SparkJobConfig):
    bronze_table: str = Field("coingecko_market_chart", description="Bronze CoinGecko points")
    vs_currency: str = Field("usd", description="quote currency of price, market cap, volume")
    symbols: dict[str, str] = Field(
        default_factory=_followed_coins,
        description="CoinGecko coin id -> exchange symbol",
    )


class FearGreedConfig(SparkJobConfig):
    bronze_table: str = Field("fear_greed", description="Bronze Fear & Greed values")


class SilverMarketDaily(SparkTransform):
    outputs: ClassVar[tuple[str, ...]] = ("market_daily",)
    config: MarketDailyConfig

    @classmethod
    def config_type(cls) -> type[MarketDailyConfig]:
        return MarketDailyConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [Change(self.ident(ctx, "bronze", self.config.bronze_table), "ingested_at", "ts")]

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        source = self.ident(ctx, "bronze", self.config.bronze_table)
        target = self.ident(ctx, "silver", "market_daily")
        if not table_exists(session, source):
            return [], {"skipped": f"{source} does not exist yet"}
        win = window.aligned(timedelta(days=1))
        mapping = session.createDataFrame(
            sorted(self.config.symbols.items()), "coin_id string, symbol string"
        )
        points = (
            _bronze.coingecko_points(session, source, self.config.vs_currency)
            .where(win.condition("ts"))
        )
        points = self.drop(session, ctx, points, not_null("coin_id", "ts", "price"),
                           source=source, key=("coin_id", "ts")).withColumn("date", F.to_date("ts"))
        # the earliest point of each day (a daily series' own point before an hourly one at the
        # same instant); among copies of it, the latest fetch
        points = points.withColumns(
            {"_neg_ts": -F.unix_micros("ts"), "_daily": (F.col("granularity") == "daily").cast("int")}
        )
        daily = latest_per_key(points, ["coin_id", "date"], ["_neg_ts", "_daily", "_order"])
        # cached: the unmapped coins, the drop's counts and the MERGE all read it
        joined = daily.join(F.broadcast(mapping), "coin_id", "left").cache()
        try:
            unmapped = [r[0] for r in
                        joined.where("symbol IS NULL").select("coin_id").distinct().collect()]
            mapped = self.drop(
                session, ctx, joined,
                [DropRule("symbol IS NULL", "no exchange symbol is configured for this coin_id "
                          "(silver.market_daily symbols)")],
                source=source, key=("coin_id", "date"),
            )
            rows = mapped.select(
                "coin_id", "symbol", "date", "price", "market_cap", "total_volume",
                F.current_timestamp().alias("updated_at"),
            )
            outcome = merge_changes(
                session, rows, target, silver_contract("market_daily"),
                target_window=("date", win),
            )
        finally:
            joined.unpersist()
        return [outcome], {"unmapped_coins": sorted(unmapped)}


class SilverFearGreed(SparkTransform):
    outputs: ClassVar[tuple[str, ...]] = ("fear_greed",)
    config: FearGreedConfig

    @classmethod
    def config_type(cls) -> type[FearGreedConfig]:
        return FearGreedConfig

    def changes(self, ctx: JobContext) -> list[Change]:
        return [Change(self.ident(ctx, "bronze", self.config.bronze_table), "ingested_at", "ts")]

    def compute(
        self, session: SparkSession, ctx: JobContext, window: Window
    ) -> tuple[list[MergeOutcome], dict[str, object]]:
        from pyspark.sql import functions as F

        source = self.ident(ctx, "bronze", self.config.bronze_table)
        target = self.ident(ctx, "silver", "fear_greed")
        if not table_exists(session, source):
            return [], {"skipped": f"{source} does not exist yet"}
        win = window.aligned(timedelta(days=1))
        points = (
            _bronze.fear_greed(session, source)
            .where(win.condition("ts"))
        )
        points = self.drop(session, ctx, points, not_null("ts", "value", "classification"),
                           source=source, key=("ts",)).withColumn("date", F.to_date("ts"))
        rows = latest_per_key(points, ["date"], ["_order", "ts"]).select(
            "date", "value", "classification", F.current_timestamp().alias("updated_at")
        )
        outcome = merge_changes(
            session, rows, target, silver_contract("fear_greed"),
            target_window=("date", win),
        )
        return [outcome], {}

