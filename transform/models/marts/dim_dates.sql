{{ config(materialized='table') }}
-- The calendar: one row per UTC day from the first to the last day any Silver source covers.
with bounds as (
    select min(d) as first_day, max(d) as last_day
    from (
        select min(date) as d from {{ ref('stg_binance__ohlcv_1h') }}
        union all select max(date) from {{ ref('stg_binance__ohlcv_1h') }}
        union all select min(date) from {{ ref('stg_coingecko__market_daily') }}
        union all select max(date) from {{ ref('stg_coingecko__market_daily') }}
        union all select min(date) from {{ ref('stg_alternative_me__fear_greed') }}
        union all select max(date) from {{ ref('stg_alternative_me__fear_greed') }}
    )
),

days as (
    select day
    from bounds
    cross join unnest(sequence(first_day, last_day, interval '1' day)) as t(day)
    where first_day is not null
)

select
    day as date_day,
    year(day) as year,
    quarter(day) as quarter,
    month(day) as month,
    date_format(day, '%M') as month_name,
    day_of_month(day) as day_of_month,
    day_of_week(day) as day_of_week,
    date_format(day, '%W') as day_name,
    week_of_year(day) as iso_week,
    day_of_week(day) in (6, 7) as is_weekend,
    date_trunc('week', day) as week_start,
    date_trunc('month', day) as month_start
from days
