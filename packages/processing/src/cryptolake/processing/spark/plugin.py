"""The built-in Spark transforms, registered like any third-party plugin.

``cryptolake transform list`` shows them; ``cryptolake transform run NAME [--from … --to …]`` runs
one. Implementations are imported only when a job runs, so listing them never starts Spark.
"""

from __future__ import annotations

from cryptolake.core import (
    CommandRegistry,
    PluginManifest,
    TransformPlugin,
    TransformRegistry,
    hookimpl,
)
from cryptolake.processing import __version__
from cryptolake.processing.spark.anomalies import AnomaliesConfig
from cryptolake.processing.spark.candles import CandlesConfig
from cryptolake.processing.spark.reference import FearGreedConfig, MarketDailyConfig
from cryptolake.processing.spark.stream import StreamConfig
from cryptolake.processing.spark.trades import TradesConfig
from cryptolake.processing.spark.vwap import VwapConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="cryptolake.spark",
    version=__version__,
    core_api=">=0.1,<1",
    description="Spark jobs: Kafka → Bronze stream, Bronze → Silver MERGE, VWAP, anomalies",
)

_BATCH = frozenset({"idempotent", "time_range"})
_MOD = "cryptolake.processing.spark"

ENTRIES: tuple[TransformPlugin, ...] = (
    TransformPlugin(
        name="bronze.binance_stream",
        implementation=f"{_MOD}.stream:BronzeStream",
        config_model=StreamConfig,
        capabilities=frozenset({"streaming", "incremental"}),
        engine="spark",
        inputs=("kafka:binance.aggtrade", "kafka:binance.kline_1m", "kafka:binance.kline_1h"),
        outputs=("bronze.binance_agg_trades", "bronze.binance_klines", "bronze.rejects"),
        schedule="continuous",
        layer="bronze",
        description=(
            "Kafka → Bronze, exactly once. `transform run` drains what is in Kafka now and stops; "
            "`cryptolake stream start` keeps it running."
        ),
    ),
    TransformPlugin(
        name="silver.trades",
        implementation=f"{_MOD}.trades:SilverTrades",
        config_model=TradesConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("bronze.binance_agg_trades",),
        outputs=("silver.trades",),
        schedule="every 1m",
        layer="silver",
        description="aggregate trades typed and deduplicated on (symbol, agg_trade_id)",
    ),
    TransformPlugin(
        name="silver.ohlcv_1m",
        implementation=f"{_MOD}.candles:SilverOhlcv1m",
        config_model=CandlesConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("silver.trades", "bronze.binance_klines"),
        outputs=("silver.ohlcv_1m",),
        schedule="every 1m",
        layer="silver",
        description="1-minute candles from trades, reconciled with the exchange's klines",
    ),
    TransformPlugin(
        name="silver.ohlcv_1h",
        implementation=f"{_MOD}.candles:SilverOhlcv1h",
        config_model=CandlesConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("bronze.binance_klines", "silver.ohlcv_1m"),
        outputs=("silver.ohlcv_1h",),
        schedule="hourly",
        layer="silver",
        description="1-hour candles from the exchange's 1h klines, else rolled up from 1m",
    ),
    TransformPlugin(
        name="silver.market_daily",
        implementation=f"{_MOD}.reference:SilverMarketDaily",
        config_model=MarketDailyConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("bronze.coingecko_market_chart",),
        outputs=("silver.market_daily",),
        schedule="daily",
        layer="silver",
        description="CoinGecko price, market cap and volume per coin and UTC day",
    ),
    TransformPlugin(
        name="silver.fear_greed",
        implementation=f"{_MOD}.reference:SilverFearGreed",
        config_model=FearGreedConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("bronze.fear_greed",),
        outputs=("silver.fear_greed",),
        schedule="daily",
        layer="silver",
        description="Fear & Greed index, one row per UTC day",
    ),
    TransformPlugin(
        name="silver.vwap",
        implementation=f"{_MOD}.vwap:SilverVwap",
        config_model=VwapConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("silver.trades",),
        outputs=("silver.vwap",),
        schedule="every 1m",
        layer="silver",
        description="VWAP over sliding event-time windows (default 5 min, sliding 1 min)",
    ),
    TransformPlugin(
        name="silver.anomalies",
        implementation=f"{_MOD}.anomalies:SilverAnomalies",
        config_model=AnomaliesConfig,
        capabilities=_BATCH,
        engine="spark",
        inputs=("silver.ohlcv_1h", "silver.ohlcv_1m"),
        outputs=("silver.anomalies",),
        schedule="hourly",
        layer="silver",
        description="returns whose z-score against a trailing window exceeds a threshold",
    ),
)


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    for entry in ENTRIES:
        registry.add(entry)


@hookimpl
def cryptolake_register_commands(commands: CommandRegistry) -> None:
    from cryptolake.processing.spark.cli import register

    register(commands)
