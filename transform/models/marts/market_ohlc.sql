{{
  config(
    unique_key=['symbol', 'timeframe', 'bucket_start'],
    properties={'partitioning': "ARRAY['timeframe', 'year(bucket_start)']"},
  )
}}
-- Multi-timeframe candles (1h, 4h, 1d) per coin, unique on (symbol, timeframe, bucket_start).
-- Buckets are UTC-aligned; `is_complete` says whether every hour of the bucket was present.
with hourly as (
    select * from {{ deduplicated(ref('stg_prices'), ['symbol', 'open_time'],
                                  since('open_time', reprocess_from('bucket_start')) if is_incremental() else none) }}
),

bucketed as (
    select '1h' as timeframe, 1 as expected_bars, open_time as bucket_start, * from hourly
    union all
    select
        '4h', 4,
        date_trunc('day', open_time) + (hour(open_time) / 4 * 4) * interval '1' hour,
        *
    from hourly
    union all
    select '1d', 24, date_trunc('day', open_time), * from hourly
)

select
    symbol,
    timeframe,
    bucket_start,
    min_by(open, open_time) as open,
    max(high) as high,
    min(low) as low,
    max_by(close, open_time) as close,
    sum(volume) as volume,
    sum(quote_volume) as quote_volume,
    sum(trade_count) as trade_count,
    count(*) as bar_count,
    count(*) = max(expected_bars) as is_complete,
    cast(current_timestamp as timestamp(6) with time zone) as loaded_at
from bucketed
group by symbol, timeframe, bucket_start
