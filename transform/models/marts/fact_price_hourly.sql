{{
  config(
    unique_key=['symbol', 'open_time'],
    properties={'partitioning': "ARRAY['month(open_time)']"},
  )
}}
-- Hourly OHLCV facts per coin and hour, with the 1-hour close-to-close return (NULL when the
-- previous hour is missing).
with base as (
    select * from {{ deduplicated(ref('stg_prices'), ['symbol', 'open_time'],
                                  since('open_time', read_from('open_time')) if is_incremental() else none) }}
),

with_prev as (
    select
        *,
        lag(close) over (partition by symbol order by open_time) as prev_close,
        lag(open_time) over (partition by symbol order by open_time) as prev_open_time
    from base
)

select
    symbol,
    open_time,
    date,
    hour(open_time) as hour_of_day,
    open,
    high,
    low,
    close,
    volume,
    quote_volume,
    trade_count,
    case
        when prev_open_time = open_time - interval '1' hour and prev_close > 0
            then close / prev_close - 1
    end as return_1h,
    cast(current_timestamp as timestamp(6) with time zone) as loaded_at
from with_prev
{% if is_incremental() %} where {{ since('open_time', reprocess_from('open_time')) }} {% endif %}
