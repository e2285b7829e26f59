-- CoinGecko daily market metrics from silver.market_daily, one row per (coin_id, date).
select
    coin_id,
    symbol,
    date,
    price,
    market_cap,
    total_volume,
    updated_at
from {{ silver_source('market_daily') }}
