{#-
  Incremental builds driven by what changed upstream.

  Every Silver MERGE stamps the rows it writes with `updated_at`. The dbt.gold job passes, per
  Silver table, the newest `updated_at` the previous Gold build read (var `changed_since`,
  e.g. {"ohlcv_1h": "2024-05-01T06:00:00+00:00"}). An incremental model rebuilds exactly the
  keys whose Silver rows changed since then — of any age — plus the neighbours its windows
  depend on. A table without a watermark (first build, or a plain `dbt build`) counts as
  changed everywhere: correct, just not incremental.

  The job also pins each Silver table to the snapshot of its latest publication
  (var `silver_snapshots`, {"ohlcv_1h": 8312...}); `silver_source` reads it there.
-#}

{% macro silver_source(name) -%}
    {%- set pins = var('silver_snapshots', {}) -%}
    {{ source('silver', name) }}{% if pins.get(name) %} for version as of {{ pins[name] }}{% endif %}
{%- endmacro %}

{#- A predicate on `updated_at`: the rows of Silver table `name` changed since the last build. -#}
{% macro changed(name, column='updated_at') -%}
    {%- set since = var('changed_since', {}).get(name) -%}
    {%- if since -%}
        {{ column }} > from_iso8601_timestamp_nanos('{{ since }}')
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- (symbol, date) of every hourly candle that changed in silver.ohlcv_1h. -#}
{% macro changed_price_days() -%}
    select distinct symbol, date
    from {{ ref('stg_binance__ohlcv_1h') }}
    where {{ changed('ohlcv_1h') }}
{%- endmacro %}

{#-
  (symbol, date) whose daily market row must be rebuilt: the days whose candles changed, the
  (coin, day) pairs whose CoinGecko metrics changed, and every symbol on a day whose Fear & Greed
  value changed.
-#}
{% macro changed_market_days() -%}
    select symbol, date from ({{ changed_price_days() }})
    union
    select symbol, date from {{ ref('stg_coingecko__market_daily') }}
    where {{ changed('market_daily') }}
    union
    select p.symbol, p.date
    from {{ ref('int_prices__rolled_up_daily') }} as p
    where p.date in (
        select date from {{ ref('stg_alternative_me__fear_greed') }} where {{ changed('fear_greed') }}
    )
    union
    select m.symbol, m.date
    from {{ ref('stg_coingecko__market_daily') }} as m
    where m.date in (
        select date from {{ ref('stg_alternative_me__fear_greed') }} where {{ changed('fear_greed') }}
    )
{%- endmacro %}

{#- `keys` (a relation or subquery with symbol and date) shifted by each of `offsets` days. -#}
{% macro shifted_days(keys, first, last) -%}
    select distinct k.symbol, date_add('day', t.offset_days, k.date) as date
    from ({{ keys }}) as k
    cross join unnest(sequence({{ first }}, {{ last }})) as t(offset_days)
{%- endmacro %}

{#- An EXISTS predicate: the row's (symbol, date) is among `keys`. -#}
{% macro in_keys(keys, alias) -%}
    exists (select 1 from {{ keys }} as k where k.symbol = {{ alias }}.symbol and k.date = {{ alias }}.date)
{%- endmacro %}

{#-
  deduplicated(relation, key, where): the rows of `relation` (optionally filtered), keeping the
  most recently updated one per `key`. Silver is unique on its key; should a batch break that,
  the staging tests and the quality gate report it, and the incremental MERGEs still run.
-#}
{% macro deduplicated(relation, key, where=none) -%}
    (
        select * from (
            select
                r.*,
                row_number() over (partition by {{ key | join(', ') }} order by r.updated_at desc) as dbt_row_rank
            from {{ relation }} as r
            {% if where %} where {{ where }} {% endif %}
        )
        where dbt_row_rank = 1
    )
{%- endmacro %}
