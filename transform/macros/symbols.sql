{#- Split an exchange symbol such as BTCUSDT into its base (BTC) and quote (USDT) asset. -#}

{% macro quote_assets() -%}
    {{ return(['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'EUR', 'TRY', 'BTC', 'ETH', 'BNB']) }}
{%- endmacro %}

{% macro quote_asset(symbol) -%}
    case
    {%- for q in quote_assets() %}
        when {{ symbol }} like '%{{ q }}' and length({{ symbol }}) > {{ q | length }} then '{{ q }}'
    {%- endfor %}
    end
{%- endmacro %}

{% macro base_asset(symbol) -%}
    coalesce(
        substr({{ symbol }}, 1, length({{ symbol }}) - length({{ quote_asset(symbol) }})),
        {{ symbol }}
    )
{%- endmacro %}
