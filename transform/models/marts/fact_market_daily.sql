{{
  config(
    unique_key=['symbol', 'date'],
    properties={'partitioning': "ARRAY['year(date)']"},
  )
}}
-- depends_on: {{ ref('stg_binance__ohlcv_1h') }}
-- depends_on: {{ ref('stg_coingecko__market_daily') }}
-- depends_on: {{ ref('stg_alternative_me__fear_greed') }}
-- depends_on: {{ ref('int_prices__rolled_up_daily') }}
-- Daily market facts per coin: price, market cap, volume, 1-day change, 7/30-day moving
-- averages, 7-day volatility of daily log returns, and the day's Fear & Greed value and class.
-- Windows are calendar windows (RANGE over the date), so a missing day is not silently skipped.
-- Incremental runs rebuild every day whose windows (up to 29 days back) reach a changed day,
-- reading the 30 days before each of them.
with
{% if is_incremental() %}
affected as ({{ shifted_days(changed_market_days(), 0, 29) }}),
reading as ({{ shifted_days('select symbol, date from affected', -30, 0) }}),
{% endif %}

base as (
    select e.* from {{ ref('int_market_daily__enriched') }} as e
    {% if is_incremental() %} where {{ in_keys('reading', 'e') }} {% endif %}
),

with_prev as (
    select
        *,
        lag(price) over (partition by symbol order by date) as prev_price,
        lag(date) over (partition by symbol order by date) as prev_date
    from base
),

with_returns as (
    select
        *,
        case
            when prev_date = date - interval '1' day and prev_price > 0 and price > 0
                then ln(price / prev_price)
        end as log_return_1d
    from with_prev
),

windowed as (
    select
        *,
        avg(price) over (
            partition by symbol order by date
            range between interval '6' day preceding and current row
        ) as ma_7d,
        avg(price) over (
            partition by symbol order by date
            range between interval '29' day preceding and current row
        ) as ma_30d,
        count(price) over (
            partition by symbol order by date
            range between interval '29' day preceding and current row
        ) as days_in_30d,
        stddev_samp(log_return_1d) over (
            partition by symbol order by date
            range between interval '6' day preceding and current row
        ) as volatility_7d
    from with_returns
)

select
    symbol,
    date,
    coin_id,
    price,
    price_source,
    market_cap,
    total_volume,
    exchange_volume,
    case
        when prev_date = date - interval '1' day and prev_price > 0 then price / prev_price - 1
    end as change_1d,
    ma_7d,
    ma_30d,
    days_in_30d,
    volatility_7d,
    fear_greed_value,
    fear_greed_class,
    cast(current_timestamp as timestamp(6) with time zone) as loaded_at
from windowed as w
{% if is_incremental() %} where {{ in_keys('affected', 'w') }} {% endif %}
