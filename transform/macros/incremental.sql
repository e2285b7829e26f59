{#-
  Incremental windows.

  reprocess_from(column): the first bucket an incremental run rebuilds — the newest value of
  `column` already in this model, truncated to the day (so daily and 4-hour buckets are always
  rebuilt whole), minus `reprocess_days` days. Rows from there on are recomputed and merged, so
  late or corrected Silver rows in those days reach Gold.

  read_from(column): where an incremental run starts reading its input — reprocess_from minus
  `window_lookback_days`, so every rolling window that ends in a rebuilt row sees all its inputs.

  since(column, cutoff): a filter that keeps rows at or after the cutoff; everything when the
  model is still empty (the cutoff is NULL then).
-#}

{% macro reprocess_from(column) -%}
    (
        select date_trunc('day', max({{ column }})) - interval '{{ var("reprocess_days", 2) }}' day
        from {{ this }}
    )
{%- endmacro %}

{% macro read_from(column) -%}
    (
        select date_trunc('day', max({{ column }}))
            - interval '{{ var("reprocess_days", 2) + var("window_lookback_days", 35) }}' day
        from {{ this }}
    )
{%- endmacro %}

{% macro since(column, cutoff) -%}
    {{ column }} >= coalesce({{ cutoff }}, {{ column }})
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
