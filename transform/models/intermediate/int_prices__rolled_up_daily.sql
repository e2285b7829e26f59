{{
  config(
    unique_key=['symbol', 'date'],
    properties={'partitioning': "ARRAY['year(date)']"},
  )
}}
-- Daily OHLCV per symbol rolled up from the hourly candles (UTC days). Incremental runs rebuild
-- the (symbol, day) pairs whose hourly candles changed in Silver, whatever their age.
with hourly as (
    select h.*
    from {{ deduplicated(ref('stg_binance__ohlcv_1h'), ['symbol', 'open_time']) }} as h
    {% if is_incremental() %}
    where {{ in_keys('(' ~ changed_price_days() ~ ')', 'h') }}
    {% endif %}
)

select
    symbol,
    date,
    {{ ohlc_rollup('open_time') }},
    count(*) as hours
from hourly
group by symbol, date
