{#- Fails with one row per duplicated key: the combination of `combination_of_columns` is unique. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set key = combination_of_columns | join(', ') -%}
    select {{ key }}, count(*) as occurrences
    from {{ model }}
    group by {{ key }}
    having count(*) > 1
{% endtest %}
