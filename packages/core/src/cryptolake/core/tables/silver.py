"""Contracts of the ``silver`` namespace: typed, deduplicated, reconciled tables.

Written by the processing package's Spark jobs with ``MERGE INTO`` on each table's ``key``.
Prices and volumes are ``double``; times are UTC ``timestamptz``.
"""

from __future__ import annotations

from cryptolake.core.tables._contract import Column, PartitionField, TableContract

_CANDLE_COLUMNS = (
    Column("symbol", "string", required=True, doc="exchange symbol, e.g. BTCUSDT"),
    Column("open_time", "timestamptz", required=True, doc="bucket start (UTC)"),
    Column("open", "double", required=True),
    Column("high", "double", required=True),
    Column("low", "double", required=True),
    Column("close", "double", required=True),
    Column("volume", "double", required=True, doc="base-asset volume"),
    Column("quote_volume", "double", doc="quote-asset volume"),
    Column("trade_count", "long"),
    Column("source", "string", required=True,
           doc="trades | klines | trades+klines | 1m (1h candle rolled up from 1m candles)"),
    Column("kline_mismatch", "boolean", doc="trades and the exchange's kline disagree"),
    Column("updated_at", "timestamptz", required=True),
)

TRADES = TableContract(
    namespace="silver",
    name="trades",
    doc="Binance aggregate trades, typed and deduplicated on (symbol, agg_trade_id).",
    columns=(
        Column("symbol", "string", required=True),
        Column("agg_trade_id", "long", required=True),
        Column("price", "double", required=True),
        Column("quantity", "double", required=True),
        Column("first_trade_id", "long"),
        Column("last_trade_id", "long"),
        Column("trade_time", "timestamptz", required=True),
        Column("event_time", "timestamptz"),
        Column("is_buyer_maker", "boolean"),
        Column("updated_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("trade_time", "day"),),
    sort_by=("symbol", "trade_time"),
    key=("symbol", "agg_trade_id"),
)

OHLCV_1M = TableContract(
    namespace="silver",
    name="ohlcv_1m",
    doc="One-minute candles from trades, reconciled with the exchange's 1m klines.",
    columns=_CANDLE_COLUMNS,
    partition_by=(PartitionField("open_time", "day"),),
    sort_by=("symbol", "open_time"),
    key=("symbol", "open_time"),
)

OHLCV_1H = TableContract(
    namespace="silver",
    name="ohlcv_1h",
    doc="One-hour candles from the exchange's 1h klines or rolled up from 1m candles.",
    columns=_CANDLE_COLUMNS,
    partition_by=(PartitionField("open_time", "month"),),
    sort_by=("symbol", "open_time"),
    key=("symbol", "open_time"),
)

MARKET_DAILY = TableContract(
    namespace="silver",
    name="market_daily",
    doc="CoinGecko price, market cap and volume per coin and UTC day.",
    columns=(
        Column("coin_id", "string", required=True, doc="CoinGecko id, e.g. bitcoin"),
        Column("symbol", "string", required=True, doc="exchange symbol, e.g. BTCUSDT"),
        Column("date", "date", required=True),
        Column("price", "double", required=True, doc="USD"),
        Column("market_cap", "double"),
        Column("total_volume", "double"),
        Column("updated_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("date", "year"),),
    sort_by=("coin_id", "date"),
    key=("coin_id", "date"),
)

FEAR_GREED = TableContract(
    namespace="silver",
    name="fear_greed",
    doc="Alternative.me Fear & Greed index, one row per UTC day.",
    columns=(
        Column("date", "date", required=True),
        Column("value", "int", required=True, doc="0..100"),
        Column("classification", "string", required=True),
        Column("updated_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("date", "year"),),
    sort_by=("date",),
    key=("date",),
)

VWAP = TableContract(
    namespace="silver",
    name="vwap",
    doc="Volume-weighted average price over sliding event-time windows.",
    columns=(
        Column("symbol", "string", required=True),
        Column("window_start", "timestamptz", required=True),
        Column("window_end", "timestamptz", required=True),
        Column("vwap", "double", required=True),
        Column("volume", "double", required=True),
        Column("trade_count", "long", required=True),
        Column("updated_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("window_start", "day"),),
    sort_by=("symbol", "window_start"),
    key=("symbol", "window_start", "window_end"),
)

ANOMALIES = TableContract(
    namespace="silver",
    name="anomalies",
    doc="Returns whose rolling z-score against a trailing window exceeds a threshold.",
    columns=(
        Column("symbol", "string", required=True),
        Column("interval", "string", required=True, doc="1m | 1h"),
        Column("open_time", "timestamptz", required=True),
        Column("return", "double", required=True, doc="log return close/prev close"),
        Column("zscore", "double", required=True),
        Column("window_size", "int", required=True, doc="trailing bars, excluding this one"),
        Column("threshold", "double", required=True),
        Column("detected_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("open_time", "month"),),
    sort_by=("symbol", "open_time"),
    key=("symbol", "interval", "open_time"),
)

REJECTS = TableContract(
    namespace="silver",
    name="rejects",
    doc="Rows a Bronze → Silver job dropped, with the reason (a NULL or uncastable required "
    "value, a coin without an exchange symbol…), like bronze.rejects for Bronze. Counted in the "
    "job's `rejected`.",
    columns=(
        Column("job", "string", required=True, doc="the Silver transform, e.g. silver.trades"),
        Column("source_table", "string", required=True, doc="the table the row was read from"),
        Column("origin", "string", doc="the row's natural key, e.g. symbol=BTCUSDT,agg_trade_id=1"),
        Column("reason", "string", required=True, doc="why it was dropped, naming the column"),
        Column("raw", "string", required=True, doc="the row as JSON"),
        Column("raw_sha256", "string", required=True),
        Column("run_id", "string"),
        Column("rejected_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("rejected_at", "day"),),
    sort_by=("job", "rejected_at"),
    key=("job", "source_table", "reason", "raw_sha256"),
)

#: Every table of the ``silver`` namespace this module declares.
CONTRACTS: tuple[TableContract, ...] = (
    TRADES,
    OHLCV_1M,
    OHLCV_1H,
    MARKET_DAILY,
    FEAR_GREED,
    VWAP,
    ANOMALIES,
    REJECTS,
)
