{#-
  ohlc_rollup(order_by): the aggregate columns of a candle rolled up from finer candles, written
  once for every roll-up (daily candles, the 1h/4h/1d multi-timeframe mart): the first open and
  last close by `order_by`, the extreme high and low, summed volumes and trade counts.
-#}
{% macro ohlc_rollup(order_by='open_time') -%}
    min_by(open, {{ order_by }}) as open,
    max(high) as high,
    min(low) as low,
    max_by(close, {{ order_by }}) as close,
    sum(volume) as volume,
    sum(quote_volume) as quote_volume,
    sum(trade_count) as trade_count
{%- endmacro %}
