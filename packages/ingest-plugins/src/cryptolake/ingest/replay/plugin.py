"""The replay plugin: recorded real market data through the live sources' Kafka and Bronze paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.core import PluginManifest, SourcePlugin, hookimpl
from cryptolake.ingest import __version__
from cryptolake.ingest.replay.config import ReplayConfig

if TYPE_CHECKING:
    from cryptolake.core import SourceRegistry

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="replay",
    version=__version__,
    core_api=">=0.1,<1",
    description="replay of recorded Binance, CoinGecko and Fear & Greed data at a chosen speed",
)

TOPICS = ("binance.aggtrade", "binance.kline_1m", "binance.kline_1h", "binance.kline_1d")


@hookimpl
def cryptolake_register_sources(registry: SourceRegistry) -> None:
    registry.add(
        SourcePlugin(
            name="replay.recorded",
            implementation="cryptolake.ingest.replay.jobs:Replay",
            config_model=ReplayConfig,
            capabilities=frozenset({"replay", "stream", "batch"}),
            topics=TOPICS,
            bronze_tables=(
                "bronze.coingecko_market_chart",
                "bronze.coingecko_markets",
                "bronze.fear_greed",
                "bronze.rejects",
            ),
            description="recorded files (default: the bundled sample) → Kafka and Bronze, in event order",
        )
    )
