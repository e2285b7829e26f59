{{
  config(
    unique_key=['symbol', 'date'],
    properties={'partitioning': "ARRAY['year(date)']"},
  )
}}
-- depends_on: {{ ref('stg_binance__ohlcv_1h') }}
-- One row per (symbol, UTC day): the exchange's daily candle joined with CoinGecko's market
-- metrics for the same coin and the day's Fear & Greed index. Incremental runs rebuild the
-- (symbol, day) pairs any of the three inputs changed for in Silver.
with
{% if is_incremental() %}
affected as ({{ changed_market_days() }}),
{% endif %}

prices as (
    select p.* from {{ ref('int_prices__rolled_up_daily') }} as p
    {% if is_incremental() %} where {{ in_keys('affected', 'p') }} {% endif %}
),

metrics as (
    select m.* from {{ ref('stg_coingecko__market_daily') }} as m
    {% if is_incremental() %} where {{ in_keys('affected', 'm') }} {% endif %}
),

fear_greed as (
    select f.* from {{ ref('stg_alternative_me__fear_greed') }} as f
    {% if is_incremental() %} where f.date in (select date from affected) {% endif %}
),

joined as (
    select
        coalesce(p.symbol, m.symbol) as symbol,
        coalesce(p.date, m.date) as date,
        m.coin_id,
        m.price as market_price,
        m.market_cap,
        m.total_volume,
        p.open,
        p.high,
        p.low,
        p.close,
        p.volume as exchange_volume,
        p.quote_volume as exchange_quote_volume,
        p.hours as exchange_hours
    from prices as p
    full outer join metrics as m
        on p.symbol = m.symbol and p.date = m.date
)

select
    j.symbol,
    j.date,
    j.coin_id,
    -- CoinGecko's aggregated price when there is one, else the exchange's daily close
    coalesce(j.market_price, j.close) as price,
    case when j.market_price is not null then 'coingecko' else 'binance' end as price_source,
    j.market_cap,
    j.total_volume,
    j.open,
    j.high,
    j.low,
    j.close,
    j.exchange_volume,
    j.exchange_quote_volume,
    j.exchange_hours,
    fg.fear_greed_value,
    fg.fear_greed_class
from joined as j
left join fear_greed as fg
    on j.date = fg.date
