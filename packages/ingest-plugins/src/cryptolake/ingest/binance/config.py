"""Configuration of the Binance sources."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from cryptolake.ingest._job import BronzeTarget, default_symbols


class _Symbols(BaseModel):
    symbols: list[str] = Field(
        default_factory=default_symbols,
        description="Binance spot symbols, e.g. BTCUSDT (default: the followed coins, "
        "CRYPTOLAKE_MARKETS__COINS)",
    )

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one symbol is needed")
        return [s.strip().upper() for s in v]


class RestConfig(BaseModel):
    rest_url: str = Field("https://api.binance.com", description="Binance REST base URL")
    weight_per_minute: int = Field(5000, description="request weight to stay under (limit 6000)")
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0


class KlinesConfig(_Symbols, RestConfig, BronzeTarget):
    """``binance.klines``: REST backfill of klines for a date range, into Bronze."""

    intervals: list[str] = Field(default_factory=lambda: ["1m", "1h", "1d"])
    lookback_days: float = Field(
        3.0, description="without --from and with nothing stored yet, start this many days back"
    )
    page_limit: int = Field(1000, description="klines per request (max 1000)")


class LiveConfig(_Symbols, RestConfig):
    """``binance.live``: combined websocket (aggTrade + kline_1m) into Kafka, gaps backfilled."""

    ws_url: str = Field("wss://stream.binance.com:9443", description="websocket base URL")
    streams: list[str] = Field(default_factory=lambda: ["aggTrade", "kline_1m"])
    backfill: bool = Field(True, description="backfill detected gaps from the REST API")
    max_seconds: float | None = Field(None, description="stop after this long (None: run on)")
    max_messages: int | None = Field(None, description="stop after this many stream records")
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    reconnect_every_s: float = Field(
        23.5 * 3600, description="reconnect proactively before Binance's 24-hour disconnect"
    )
    open_timeout_s: float = 10.0
    resume_from_kafka: bool = Field(
        True,
        description="on start, read the newest ids and klines back from Kafka, so a gap across "
        "a restart is found and backfilled too",
    )
    resume_scan_messages: int = Field(20_000, description="newest messages read back per topic")
    max_backfill_trades: int = Field(
        200_000, description="largest aggTrade gap backfilled (a longer outage: use the REST job)"
    )
    max_backfill_minutes: int = Field(1440, description="largest 1m-kline gap backfilled")
    namespace: str = Field("bronze", description="namespace of bronze.rejects")
    ops_namespace: str = Field("ops", description="namespace of ops.alerts (unfilled gaps)")


class SinkConfig(BronzeTarget):
    """``binance.bronze_sink``: Kafka topics → Bronze tables, offsets committed after Iceberg."""

    topics: list[str] = Field(
        default_factory=lambda: [
            "binance.aggtrade",
            "binance.kline_1m",
            "binance.kline_1h",
            "binance.kline_1d",
        ],
        description="un-prefixed topic names (the settings' topic prefix is added)",
    )
    group_id: str = "cryptolake-bronze-sink"
    batch_messages: int = Field(100_000, description="messages per Iceberg commit at most")
    idle_timeout_s: float = Field(
        5.0, description="stop after this long without a message; 0 = never"
    )
    max_messages: int | None = None
