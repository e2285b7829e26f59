{{
  config(
    unique_key=['symbol', 'date'],
    properties={'partitioning': "ARRAY['year(date)']"},
  )
}}
-- One row per (symbol, UTC day): the exchange's daily candle joined with CoinGecko's market
-- metrics for the same coin and the day's Fear & Greed index.
with prices as (
    select * from {{ ref('int_price_daily_agg') }}
    {% if is_incremental() %} where {{ since('date', reprocess_from('date')) }} {% endif %}
),

metrics as (
    select * from {{ ref('stg_market_metrics') }}
    {% if is_incremental() %} where {{ since('date', reprocess_from('date')) }} {% endif %}
),

fear_greed as (
    select * from {{ ref('stg_fear_greed') }}
    {% if is_incremental() %} where {{ since('date', reprocess_from('date')) }} {% endif %}
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
