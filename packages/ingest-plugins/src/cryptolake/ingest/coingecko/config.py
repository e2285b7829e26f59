"""Configuration of the CoinGecko sources."""

from __future__ import annotations

from pydantic import Field

from cryptolake.ingest._job import BronzeTarget, default_coins

API_KEY_ENV = "CRYPTOLAKE_COINGECKO__API_KEY"


class CoinGeckoConfig(BronzeTarget):
    base_url: str = Field("https://api.coingecko.com/api/v3", description="API base URL")
    coins: list[str] = Field(
        default_factory=default_coins,
        description="CoinGecko coin ids (default: the followed coins, CRYPTOLAKE_MARKETS__COINS)",
    )
    vs_currency: str = "usd"
    api_key_env: str = Field(API_KEY_ENV, description="environment variable holding the API key")
    api_key_header: str = Field("x-cg-demo-api-key", description="x-cg-pro-api-key for Pro keys")
    requests_per_minute: int = Field(25, description="request budget (demo plan: 30/min)")
    max_retries: int = 5
    backoff_base_s: float = 2.0
    backoff_max_s: float = 60.0


class MarketChartConfig(CoinGeckoConfig):
    """``coingecko.market_chart``: daily and hourly history per coin, incremental."""

    granularities: list[str] = Field(default_factory=lambda: ["daily", "hourly"])
    initial_days_daily: int = Field(365, description="history fetched on the first daily run")
    initial_days_hourly: int = Field(90, description="hourly data exists for at most 90 days")


class MarketsConfig(CoinGeckoConfig):
    """``coingecko.markets``: one /coins/markets snapshot of the configured coins."""

    per_page: int = 250
