"""Contracts of the ``bronze`` namespace: append-only, one table per source feed.

Bronze keeps each feed close to the source's own schema. Prices and quantities are kept as the
**source's decimal strings, verbatim** (Binance sends ``"57953.86000000"``), so nothing is rounded
before Silver casts them; CoinGecko and Fear & Greed numbers arrive as JSON numbers and are stored
as ``double`` / ``int``. Times are UTC ``timestamptz``.

Every row carries its ingestion metadata (:data:`INGEST_METADATA`):

- ``source`` — the source entry that produced it (``binance.live``, ``replay.recorded`` …)
- ``layout`` — the record layout it was parsed from (``binance_ws_kline``, ``cdd_csv`` …)
- ``origin`` — where it came from: a URL, a websocket stream, ``file:line``
- ``ingested_at`` — fetch time (batch) or the Kafka message timestamp (stream)
- ``kafka_topic`` / ``kafka_partition`` / ``kafka_offset`` — set for rows that came through Kafka
- ``payload`` — the record as it travelled (the Kafka value, or the raw record of a batch source)
- ``payload_sha256`` — hex SHA-256 of ``payload``; with the natural key it makes reruns idempotent

Tables are partitioned by event day and sorted by symbol (or coin) and event time. Writers add a
row only when (natural key, ``payload_sha256``) is not stored yet, so a rerun adds nothing.
Malformed input goes to ``bronze.rejects`` with the reason — never a default-valued row.
"""

from __future__ import annotations

from cryptolake.core.tables._contract import Column, PartitionField, TableContract

#: Ingestion metadata carried by every Bronze feed table.
INGEST_METADATA: tuple[Column, ...] = (
    Column("source", "string", required=True, doc="source entry, e.g. binance.live"),
    Column("layout", "string", required=True, doc="record layout parsed, e.g. binance_ws_kline"),
    Column("origin", "string", doc="URL, websocket stream or file:line the record came from"),
    Column("ingested_at", "timestamptz", required=True, doc="fetch time / Kafka timestamp (UTC)"),
    Column("kafka_topic", "string", doc="set when the row came through Kafka"),
    Column("kafka_partition", "int"),
    Column("kafka_offset", "long"),
    Column("payload", "string", required=True, doc="the record as received (JSON or CSV line)"),
    Column("payload_sha256", "string", required=True, doc="hex SHA-256 of payload"),
)

BINANCE_KLINES = TableContract(
    namespace="bronze",
    name="binance_klines",
    doc=(
        "Binance spot klines of every interval (websocket kline events, REST /api/v3/klines, "
        "recorded CSV/JSON files). Prices and volumes are the exchange's decimal strings."
    ),
    columns=(
        Column("symbol", "string", required=True, doc="e.g. BTCUSDT"),
        Column("interval", "string", required=True, doc="1m | 1h | 1d"),
        Column("open_time", "timestamptz", required=True),
        Column("close_time", "timestamptz"),
        Column("open", "string", required=True),
        Column("high", "string", required=True),
        Column("low", "string", required=True),
        Column("close", "string", required=True),
        Column("volume", "string", required=True, doc="base-asset volume"),
        Column("quote_volume", "string", doc="quote-asset volume"),
        Column("trade_count", "long"),
        Column("taker_buy_base_volume", "string"),
        Column("taker_buy_quote_volume", "string"),
        Column("first_trade_id", "long"),
        Column("last_trade_id", "long"),
        Column("is_closed", "boolean", doc="false for an in-progress websocket candle"),
        Column("event_time", "timestamptz", doc="websocket event time (E)"),
        *INGEST_METADATA,
    ),
    # month, not day: a day holds a few candles per symbol (24 of 1h, one of 1d), so daily
    # partitions wrote one small file per few rows when history is loaded (~3,200 days in the
    # shared data set); a month of 1m candles is ~43k rows per symbol
    partition_by=(PartitionField("open_time", "month"),),
    sort_by=("symbol", "open_time"),
    key=("symbol", "interval", "open_time"),
)

BINANCE_AGG_TRADES = TableContract(
    namespace="bronze",
    name="binance_agg_trades",
    doc="Binance spot aggregate trades (websocket aggTrade events and REST /api/v3/aggTrades).",
    columns=(
        Column("symbol", "string", required=True),
        Column("agg_trade_id", "long", required=True, doc="a"),
        Column("price", "string", required=True, doc="p"),
        Column("quantity", "string", required=True, doc="q"),
        Column("first_trade_id", "long", doc="f"),
        Column("last_trade_id", "long", doc="l"),
        Column("trade_time", "timestamptz", required=True, doc="T"),
        Column("event_time", "timestamptz", doc="E (websocket only)"),
        Column("is_buyer_maker", "boolean", doc="m"),
        Column("is_best_match", "boolean", doc="M"),
        *INGEST_METADATA,
    ),
    partition_by=(PartitionField("trade_time", "day"),),
    sort_by=("symbol", "trade_time"),
    key=("symbol", "agg_trade_id"),
)

COINGECKO_MARKET_CHART = TableContract(
    namespace="bronze",
    name="coingecko_market_chart",
    doc="CoinGecko /coins/{id}/market_chart points (daily and hourly granularity).",
    columns=(
        Column("coin_id", "string", required=True, doc="CoinGecko id, e.g. bitcoin"),
        Column("vs_currency", "string", required=True, doc="usd"),
        Column("granularity", "string", required=True, doc="daily | hourly"),
        Column("ts", "timestamptz", required=True, doc="point time"),
        Column("price", "double", required=True),
        Column("market_cap", "double", doc="null when CoinGecko sends null"),
        Column("total_volume", "double"),
        *INGEST_METADATA,
    ),
    partition_by=(PartitionField("ts", "month"),),
    sort_by=("coin_id", "ts"),
    key=("coin_id", "vs_currency", "granularity", "ts"),
)

COINGECKO_MARKETS = TableContract(
    namespace="bronze",
    name="coingecko_markets",
    doc="CoinGecko /coins/markets snapshots, one row per coin and last_updated.",
    columns=(
        Column("coin_id", "string", required=True),
        Column("symbol", "string", required=True, doc="CoinGecko symbol, e.g. btc"),
        Column("name", "string"),
        Column("vs_currency", "string", required=True),
        Column("current_price", "double", required=True),
        Column("market_cap", "double"),
        Column("market_cap_rank", "int"),
        Column("fully_diluted_valuation", "double"),
        Column("total_volume", "double"),
        Column("high_24h", "double"),
        Column("low_24h", "double"),
        Column("price_change_24h", "double"),
        Column("price_change_percentage_24h", "double"),
        Column("circulating_supply", "double"),
        Column("total_supply", "double"),
        Column("max_supply", "double"),
        Column("ath", "double"),
        Column("atl", "double"),
        Column("last_updated", "timestamptz", required=True),
        *INGEST_METADATA,
    ),
    partition_by=(PartitionField("last_updated", "day"),),
    sort_by=("coin_id", "last_updated"),
    key=("coin_id", "vs_currency", "last_updated"),
)

FEAR_GREED = TableContract(
    namespace="bronze",
    name="fear_greed",
    doc="Alternative.me Fear & Greed index (/fng/), one row per published day.",
    columns=(
        Column("ts", "timestamptz", required=True, doc="the day (00:00 UTC) the value is for"),
        Column("value", "int", required=True, doc="0..100"),
        Column("value_classification", "string", required=True),
        Column("time_until_update", "long", doc="seconds; set on the provisional latest value"),
        *INGEST_METADATA,
    ),
    partition_by=(PartitionField("ts", "year"),),  # one value a day: daily = one file a row
    sort_by=("ts",),
    key=("ts",),
)

REJECTS = TableContract(
    namespace="bronze",
    name="rejects",
    doc="Dead letters: input no parser accepted, with the reason. Never stops ingestion.",
    columns=(
        Column("source", "string", required=True, doc="source entry"),
        Column("feed", "string", doc="the Bronze table the record was meant for, if known"),
        Column("layout", "string", doc="layout the parser tried, if known"),
        Column("origin", "string", doc="URL, stream, topic/partition/offset or file:line"),
        Column("reason", "string", required=True, doc="what is wrong, naming the field"),
        Column("raw", "string", required=True, doc="the raw record (text; bytes as repr)"),
        Column("raw_sha256", "string", required=True),
        Column("rejected_at", "timestamptz", required=True),
        Column("kafka_topic", "string"),
        Column("kafka_partition", "int"),
        Column("kafka_offset", "long"),
    ),
    partition_by=(PartitionField("rejected_at", "day"),),
    sort_by=("source", "rejected_at"),
    key=("source", "origin", "raw_sha256"),
)

#: Bronze feed tables written by the ingest sources, by short name.
FEEDS: dict[str, TableContract] = {
    c.name: c
    for c in (
        BINANCE_KLINES,
        BINANCE_AGG_TRADES,
        COINGECKO_MARKET_CHART,
        COINGECKO_MARKETS,
        FEAR_GREED,
    )
}

#: Every table of the ``bronze`` namespace this module declares.
CONTRACTS: tuple[TableContract, ...] = (
    BINANCE_KLINES,
    BINANCE_AGG_TRADES,
    COINGECKO_MARKET_CHART,
    COINGECKO_MARKETS,
    FEAR_GREED,
    REJECTS,
)
