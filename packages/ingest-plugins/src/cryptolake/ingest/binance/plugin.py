"""The Binance plugin: live websocket, REST kline backfill, Kafka → Bronze sink, file layouts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptolake.core import PluginManifest, SourcePlugin, hookimpl
from cryptolake.ingest import __version__
from cryptolake.ingest.binance import parse
from cryptolake.ingest.binance.config import KlinesConfig, LiveConfig, SinkConfig

if TYPE_CHECKING:
    from cryptolake.core import SourceRegistry

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="binance",
    version=__version__,
    core_api=">=0.1,<1",
    description="Binance spot: websocket aggTrade + kline_1m into Kafka, REST backfill into Bronze",
)

STREAM_TOPICS = (parse.AGG_TRADE_TOPIC, parse.kline_topic("1m"))


@hookimpl
def cryptolake_register_sources(registry: SourceRegistry) -> None:
    registry.add(
        SourcePlugin(
            name="binance.live",
            implementation="cryptolake.ingest.binance.jobs:BinanceLive",
            config_model=LiveConfig,
            capabilities=frozenset({"stream", "backfill"}),
            topics=STREAM_TOPICS,
            bronze_tables=("bronze.rejects",),
            description="combined websocket (aggTrade, kline_1m) → Kafka; gaps backfilled over REST",
        )
    )
    registry.add(
        SourcePlugin(
            name="binance.klines",
            implementation="cryptolake.ingest.binance.jobs:BinanceKlines",
            config_model=KlinesConfig,
            capabilities=frozenset({"batch", "backfill", "incremental"}),
            bronze_tables=("bronze.binance_klines", "bronze.rejects"),
            description="REST /api/v3/klines (1m, 1h, 1d) for a window → bronze.binance_klines",
        )
    )
    registry.add(
        SourcePlugin(
            name="binance.bronze_sink",
            implementation="cryptolake.ingest.binance.jobs:BronzeSink",
            config_model=SinkConfig,
            capabilities=frozenset({"stream"}),
            topics=(*STREAM_TOPICS, parse.kline_topic("1h"), parse.kline_topic("1d")),
            bronze_tables=("bronze.binance_klines", "bronze.binance_agg_trades", "bronze.rejects"),
            description="Kafka binance.* topics → Bronze (Python reference of the stream contract)",
        )
    )


@hookimpl
def cryptolake_detect_layout(path: Path, head: bytes) -> str | None:
    return parse.detect(path, head)
