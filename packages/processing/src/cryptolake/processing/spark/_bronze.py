"""Reading the Bronze tables (``cryptolake.core.tables.bronze``) into typed frames for Silver.

Bronze keeps Binance prices and volumes as the exchange's decimal strings; they are cast here to
``decimal(18,8)`` (prices) and ``decimal(30,8)`` (volumes) — Binance sends 8 decimals — so sums are
exact and a rerun is bit-identical whatever order Spark adds in. A value that is not a decimal
becomes NULL (``try_cast``), and the Silver job drops and records that row with the reason
(``silver.rejects``) instead of failing on it. ``_order`` ranks copies of the
same record: the later fetch (``ingested_at``), then the later Kafka offset, wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.processing.spark._common import read

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Binance prices and quantities carry 8 decimals; price × trade quantity fits decimal(38,15).
PRICE = "decimal(18,8)"
QTY = "decimal(30,8)"
TRADE_QTY = "decimal(20,8)"


def _order() -> Column:
    from pyspark.sql import functions as F

    return F.struct(F.col("ingested_at"), F.col("kafka_partition"), F.col("kafka_offset"))


def aggtrades(session: SparkSession, ident: str) -> DataFrame:
    """``bronze.binance_agg_trades`` with typed prices and quantities."""
    from pyspark.sql import functions as F

    return read(session, ident).select(
        F.upper("symbol").alias("symbol"),
        "agg_trade_id",
        F.col("price").try_cast(PRICE).alias("price"),
        F.col("quantity").try_cast(QTY).alias("quantity"),
        "first_trade_id",
        "last_trade_id",
        "trade_time",
        "event_time",
        "is_buyer_maker",
        _order().alias("_order"),
    )


def klines(session: SparkSession, ident: str) -> DataFrame:
    """``bronze.binance_klines`` (every interval) with typed prices and volumes."""
    from pyspark.sql import functions as F

    return read(session, ident).select(
        F.upper("symbol").alias("symbol"),
        "interval",
        "open_time",
        "close_time",
        *[F.col(c).try_cast(PRICE).alias(c) for c in ("open", "high", "low", "close")],
        F.col("volume").try_cast(QTY).alias("volume"),
        F.col("quote_volume").try_cast(QTY).alias("quote_volume"),
        "trade_count",
        F.coalesce(F.col("is_closed"), F.lit(True)).alias("is_closed"),
        "event_time",
        _order().alias("_order"),
    )


def coingecko_points(session: SparkSession, ident: str, vs_currency: str) -> DataFrame:
    """``bronze.coingecko_market_chart`` points in ``vs_currency``."""
    from pyspark.sql import functions as F

    return (
        read(session, ident)
        .where(F.lower("vs_currency") == vs_currency.lower())
        .select(
            F.lower("coin_id").alias("coin_id"),
            "granularity",
            "ts",
            "price",
            "market_cap",
            "total_volume",
            _order().alias("_order"),
        )
    )


def fear_greed(session: SparkSession, ident: str) -> DataFrame:
    """``bronze.fear_greed``: one row per published value and fetch."""
    from pyspark.sql import functions as F

    return read(session, ident).select(
        "ts",
        "value",
        F.col("value_classification").alias("classification"),
        _order().alias("_order"),
    )
