"""The CoinGecko plugin: market charts (daily, hourly) and market snapshots into Bronze."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptolake.core import PluginManifest, SourcePlugin, hookimpl
from cryptolake.ingest import __version__
from cryptolake.ingest.coingecko import parse
from cryptolake.ingest.coingecko.config import MarketChartConfig, MarketsConfig

if TYPE_CHECKING:
    from cryptolake.core import SourceRegistry

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="coingecko",
    version=__version__,
    core_api=">=0.1,<1",
    description="CoinGecko /coins/{id}/market_chart and /coins/markets into Bronze",
)


@hookimpl
def cryptolake_register_sources(registry: SourceRegistry) -> None:
    registry.add(
        SourcePlugin(
            name="coingecko.market_chart",
            implementation="cryptolake.ingest.coingecko.jobs:MarketChart",
            config_model=MarketChartConfig,
            capabilities=frozenset({"batch", "incremental"}),
            bronze_tables=("bronze.coingecko_market_chart", "bronze.rejects"),
            description="daily and hourly price, market cap and volume per coin",
        )
    )
    registry.add(
        SourcePlugin(
            name="coingecko.markets",
            implementation="cryptolake.ingest.coingecko.jobs:Markets",
            config_model=MarketsConfig,
            capabilities=frozenset({"batch"}),
            bronze_tables=("bronze.coingecko_markets", "bronze.rejects"),
            description="a /coins/markets snapshot of the configured coins",
        )
    )


@hookimpl
def cryptolake_detect_layout(path: Path, head: bytes) -> str | None:
    return parse.detect(path, head)
