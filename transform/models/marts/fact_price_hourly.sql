{{
  config(
    unique_key=['symbol', 'open_time'],
    properties={'partitioning': "ARRAY['month(open_time)']"},
  )
}}
-- Hourly OHLCV facts per coin and hour, with the 1-hour close-to-close return (NULL when the
-- previous hour is missing). Incremental runs rebuild the days whose candles changed in Silver
-- (and the day after each), whatever their age.
with
{% if is_incremental() %}
-- the changed days, and the day after each (its first return_1h looks one hour back)
affected as ({{ shifted_days(changed_price_days(), 0, 1) }}),
reading as ({{ shifted_days('select symbol, date from affected', -1, 0) }}),
{% endif %}

base as (
    select h.*
    from {{ deduplicated(ref('stg_binance__ohlcv_1h'), ['symbol', 'open_time']) }} as h
    {% if is_incremental() %} where {{ in_keys('reading', 'h') }} {% endif %}
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
from with_prev as w
{% if is_incremental() %} where {{ in_keys('affected', 'w') }} {% endif %}
