{{
  config(
    unique_key=['symbol', 'timeframe', 'bucket_start'],
    properties={'partitioning': "ARRAY['timeframe', 'year(bucket_start)']"},
  )
}}
-- Multi-timeframe candles (1h, 4h, 1d) per coin, unique on (symbol, timeframe, bucket_start).
-- Buckets are UTC-aligned; `is_complete` says whether every hour of the bucket was present.
with hourly as (
    select h.*
    from {{ deduplicated(ref('stg_binance__ohlcv_1h'), ['symbol', 'open_time']) }} as h
    {% if is_incremental() %}
    -- every bucket lies within one UTC day: rebuild the days whose candles changed in Silver
    where {{ in_keys('(' ~ changed_price_days() ~ ')', 'h') }}
    {% endif %}
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
    {{ ohlc_rollup('open_time') }},
    count(*) as bar_count,
    count(*) = max(expected_bars) as is_complete,
    cast(current_timestamp as timestamp(6) with time zone) as loaded_at
from bucketed
group by symbol, timeframe, bucket_start
