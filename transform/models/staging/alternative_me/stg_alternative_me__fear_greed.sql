-- Alternative.me Fear & Greed index from silver.fear_greed, one row per UTC day.
select
    date,
    value as fear_greed_value,
    classification as fear_greed_class,
    updated_at
from {{ silver_source('fear_greed') }}
