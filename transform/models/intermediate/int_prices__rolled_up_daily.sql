{{
  config(
    unique_key=['symbol', 'date'],
    properties={'partitioning': "ARRAY['year(date)']"},
  )
}}
-- Daily OHLCV per symbol rolled up from the hourly candles (UTC days).
select
    symbol,
    date,
    min_by(open, open_time) as open,
    max(high) as high,
    min(low) as low,
    max_by(close, open_time) as close,
    sum(volume) as volume,
    sum(quote_volume) as quote_volume,
    sum(trade_count) as trade_count,
    count(*) as hours
from {{ deduplicated(ref('stg_prices'), ['symbol', 'open_time'],
                     since('date', reprocess_from('date')) if is_incremental() else none) }}
group by symbol, date
