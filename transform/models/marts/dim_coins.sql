{{ config(materialized='table') }}
-- One row per traded symbol: base/quote asset, CoinGecko id, and the span of data we hold.
with prices as (
    select
        symbol,
        min(date) as first_price_date,
        max(date) as last_price_date
    from {{ ref('stg_binance__ohlcv_1h') }}
    group by symbol
),

metrics as (
    select
        symbol,
        max(coin_id) as coin_id,
        min(date) as first_metrics_date,
        max(date) as last_metrics_date
    from {{ ref('stg_coingecko__market_daily') }}
    group by symbol
),

coins as (
    select
        coalesce(p.symbol, m.symbol) as symbol,
        m.coin_id,
        p.first_price_date,
        p.last_price_date,
        m.first_metrics_date,
        m.last_metrics_date
    from prices as p
    full outer join metrics as m on p.symbol = m.symbol
)

select
    symbol,
    {{ base_asset('symbol') }} as base_asset,
    {{ quote_asset('symbol') }} as quote_asset,
    coin_id,
    least(
        coalesce(first_price_date, first_metrics_date), coalesce(first_metrics_date, first_price_date)
    ) as first_date,
    greatest(
        coalesce(last_price_date, last_metrics_date), coalesce(last_metrics_date, last_price_date)
    ) as last_date,
    first_price_date is not null as has_hourly_prices,
    first_metrics_date is not null as has_market_metrics
from coins
