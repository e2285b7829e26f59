-- Hourly Binance candles from silver.ohlcv_1h, one row per (symbol, open_time), with the
-- symbol split into base and quote asset and the UTC day attached.
select
    symbol,
    {{ base_asset('symbol') }} as base_asset,
    {{ quote_asset('symbol') }} as quote_asset,
    open_time,
    cast(open_time as date) as date,
    open,
    high,
    low,
    close,
    volume,
    quote_volume,
    trade_count,
    updated_at
from {{ silver_source('ohlcv_1h') }}
