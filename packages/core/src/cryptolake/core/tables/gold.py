"""Contracts of the ``gold`` namespace: the marts the dbt project in ``transform/`` builds.

Declared once, here. The dbt models' contracts (``transform/models/marts/_marts__models.yml``:
column names and ``data_type``) and the Gold Soda suites (schema, key, partitioning of the
published copy) are derived from or checked against these: a test fails when they disagree.
Gold is written by Trino (dbt-trino), so ``ensure_table`` is not used for it; the contracts say
what every build must produce.
"""

from __future__ import annotations

from cryptolake.core.tables._contract import Column, PartitionField, TableContract

_OHLCV = (
    Column("open", "double"),
    Column("high", "double"),
    Column("low", "double"),
    Column("close", "double"),
    Column("volume", "double"),
    Column("quote_volume", "double"),
    Column("trade_count", "long"),
)
_LOADED_AT = Column("loaded_at", "timestamptz", doc="when the row was (re)built")

FACT_PRICE_HOURLY = TableContract(
    namespace="gold",
    name="fact_price_hourly",
    doc="Hourly OHLCV facts per coin and hour, with the 1-hour close-to-close return.",
    columns=(
        Column("symbol", "string", required=True),
        Column("open_time", "timestamptz", required=True),
        Column("date", "date", required=True),
        Column("hour_of_day", "long"),
        *_OHLCV,
        Column("return_1h", "double", doc="close / previous hour's close - 1; NULL after a gap"),
        _LOADED_AT,
    ),
    partition_by=(PartitionField("open_time", "month"),),
    key=("symbol", "open_time"),
)

MARKET_OHLC = TableContract(
    namespace="gold",
    name="market_ohlc",
    doc="Multi-timeframe candles (1h, 4h, 1d) per coin, UTC-aligned buckets.",
    columns=(
        Column("symbol", "string", required=True),
        Column("timeframe", "string", required=True, doc="1h | 4h | 1d"),
        Column("bucket_start", "timestamptz", required=True),
        *_OHLCV,
        Column("bar_count", "long", doc="hourly bars in the bucket"),
        Column("is_complete", "boolean", doc="every hour of the bucket was present"),
        _LOADED_AT,
    ),
    partition_by=(PartitionField("timeframe", "identity"), PartitionField("bucket_start", "year")),
    key=("symbol", "timeframe", "bucket_start"),
)

FACT_MARKET_DAILY = TableContract(
    namespace="gold",
    name="fact_market_daily",
    doc="Daily market facts per coin: price, market cap, volume, change, moving averages, "
    "volatility, Fear & Greed.",
    columns=(
        Column("symbol", "string", required=True),
        Column("date", "date", required=True),
        Column("coin_id", "string"),
        Column("price", "double", required=True),
        Column("price_source", "string", doc="coingecko | binance"),
        Column("market_cap", "double"),
        Column("total_volume", "double"),
        Column("exchange_volume", "double"),
        Column("change_1d", "double"),
        Column("ma_7d", "double"),
        Column("ma_30d", "double"),
        Column("days_in_30d", "long"),
        Column("volatility_7d", "double"),
        Column("fear_greed_value", "int"),
        Column("fear_greed_class", "string"),
        _LOADED_AT,
    ),
    partition_by=(PartitionField("date", "year"),),
    key=("symbol", "date"),
)

DIM_COINS = TableContract(
    namespace="gold",
    name="dim_coins",
    doc="One row per traded symbol.",
    columns=(
        Column("symbol", "string", required=True),
        Column("base_asset", "string", required=True),
        Column("quote_asset", "string"),
        Column("coin_id", "string"),
        Column("first_date", "date"),
        Column("last_date", "date"),
        Column("has_hourly_prices", "boolean"),
        Column("has_market_metrics", "boolean"),
    ),
    key=("symbol",),
)

DIM_DATES = TableContract(
    namespace="gold",
    name="dim_dates",
    doc="The calendar: one row per UTC day any Silver source covers.",
    columns=(
        Column("date_day", "date", required=True),
        Column("year", "long"),
        Column("quarter", "long"),
        Column("month", "long"),
        Column("month_name", "string"),
        Column("day_of_month", "long"),
        Column("day_of_week", "long"),
        Column("day_name", "string"),
        Column("iso_week", "long"),
        Column("is_weekend", "boolean"),
        Column("week_start", "date"),
        Column("month_start", "date"),
    ),
    key=("date_day",),
)

CONTRACTS: tuple[TableContract, ...] = (
    DIM_COINS, DIM_DATES, FACT_MARKET_DAILY, FACT_PRICE_HOURLY, MARKET_OHLC,
)
