"""GraphQL types of the market domain."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from cryptolake.api.common import FloatFilter, Quality, quality_of
from cryptolake.api.lakehouse import Reader


@strawberry.interface(description="A value read from a lakehouse table.")
class LakehouseRow:
    table_: strawberry.Private[str]
    reader_: strawberry.Private[Reader | None]

    @strawberry.field(description="The latest quality gate of the table this was read from.")
    async def quality(self, info: Info) -> Quality:
        return await quality_of(info, self.table_, self.reader_)


@strawberry.type
class Coin(LakehouseRow):
    symbol: str
    base_asset: str | None
    quote_asset: str | None
    coin_id: str | None
    first_date: date | None
    last_date: date | None
    has_hourly_prices: bool
    has_market_metrics: bool


@strawberry.type(description="An OHLCV candle; `final` is false while its bucket is still open.")
class Candle(LakehouseRow):
    symbol: str
    interval: str
    open_time: datetime
    close_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None
    trade_count: int | None
    bar_count: int = strawberry.field(description="base candles rolled into this one")
    is_complete: bool = strawberry.field(description="every base candle of the bucket was present")
    final: bool
    rolled_up: bool = strawberry.field(description="rolled up at query time (not a stored timeframe)")


@strawberry.input
class CandleWhere:
    open: FloatFilter | None = None
    high: FloatFilter | None = None
    low: FloatFilter | None = None
    close: FloatFilter | None = None
    volume: FloatFilter | None = None


@strawberry.type
class Trade(LakehouseRow):
    symbol: str
    agg_trade_id: strawberry.ID
    price: float
    quantity: float
    first_trade_id: strawberry.ID | None
    last_trade_id: strawberry.ID | None
    trade_time: datetime
    is_buyer_maker: bool | None


@strawberry.input
class TradeWhere:
    price: FloatFilter | None = None
    quantity: FloatFilter | None = None


@strawberry.type
class Vwap(LakehouseRow):
    symbol: str
    window_start: datetime
    window_end: datetime
    vwap: float
    volume: float
    trade_count: int


@strawberry.type
class Anomaly(LakehouseRow):
    symbol: str
    interval: str
    open_time: datetime
    log_return: float
    zscore: float
    window_size: int
    threshold: float
    detected_at: datetime


@strawberry.input
class AnomalyWhere:
    zscore: FloatFilter | None = None
    log_return: FloatFilter | None = None


@strawberry.type(description="Daily facts per coin (gold.fact_market_daily).")
class MarketDay(LakehouseRow):
    symbol: str
    date: date
    coin_id: str | None
    price: float
    price_source: str | None
    market_cap: float | None
    total_volume: float | None
    exchange_volume: float | None
    change_1d: float | None
    ma_7d: float | None
    ma_30d: float | None
    days_in_30d: int | None
    volatility_7d: float | None
    fear_greed_value: int | None
    fear_greed_class: str | None


@strawberry.input
class MarketDayWhere:
    price: FloatFilter | None = None
    change_1d: FloatFilter | None = None
    volatility_7d: FloatFilter | None = None
    market_cap: FloatFilter | None = None


@strawberry.type(description="Latest price, 24 h change and volume of one coin.")
class CoinOverview(LakehouseRow):
    symbol: str
    latest_time: datetime
    price: float
    change_24h: float | None
    volume_24h: float | None
    quote_volume_24h: float | None
    high_24h: float | None
    low_24h: float | None


@strawberry.type
class FearGreed(LakehouseRow):
    date: date
    value: int
    classification: str
