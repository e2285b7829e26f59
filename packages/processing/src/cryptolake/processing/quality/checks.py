"""Building blocks of the SodaCL suites: one :class:`CheckSpec` per check, rendered to SodaCL.

Every check carries a stable ``name`` (``duplicates``, ``gaps``, ``ohlc_consistency``…) that is
also its SodaCL ``name:``, so a result maps back to the check that produced it, and lands in
``ops.dq_results.check_name``. Table names inside user-defined queries are written ``{table}``
and filled in with the audited relation when the suite runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Trino type names of the contract column types, as ``information_schema`` reports them.
TRINO_TYPES: dict[str, str] = {
    "string": "varchar",
    "long": "bigint",
    "int": "integer",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamptz": "timestamp(6) with time zone",
    "timestamp": "timestamp(6)",
    "binary": "varbinary",
}


@dataclass(frozen=True)
class CheckSpec:
    """One SodaCL check: ``line`` is its SodaCL header, ``config`` the body besides ``name``."""

    name: str
    line: str
    config: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def render(self, table: str) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        for key, value in self.config.items():
            body[key] = value.replace("{table}", table) if isinstance(value, str) else value
        return {self.line: body}


def row_count(min_rows: int = 1) -> CheckSpec:
    return CheckSpec("row_count", f"row_count >= {int(min_rows)}", description="table not empty")


def freshness(column: str, max_hours: float) -> CheckSpec:
    """Hours since the newest ``column`` value; fails above ``max_hours``."""
    return CheckSpec(
        "freshness",
        f"staleness_hours <= {float(max_hours)}",
        {
            "staleness_hours query": (
                f"select coalesce(date_diff('second', max({column}), current_timestamp) / 3600.0, "
                "1e9) from {table}"
            )
        },
        description=f"newest {column} at most {max_hours} h old",
    )


def duplicates(key: Sequence[str]) -> CheckSpec:
    return CheckSpec(
        "duplicates",
        f"duplicate_count({', '.join(key)}) = 0",
        description=f"unique on ({', '.join(key)})",
    )


def schema(columns: Mapping[str, str]) -> CheckSpec:
    """Required columns and their Trino types (``{"symbol": "varchar", …}``)."""
    return CheckSpec(
        "schema",
        "schema",
        {
            "fail": {
                "when required column missing": list(columns),
                "when wrong column type": dict(columns),
            }
        },
        description="required columns present with the declared types",
    )


def not_null(column: str) -> CheckSpec:
    return CheckSpec(f"not_null_{column}", f"missing_count({column}) = 0")


def positive(columns: Sequence[str], *, name: str = "positive_prices") -> CheckSpec:
    """Rows where any of ``columns`` is zero or negative; fails when there is one."""
    cond = " or ".join(f"{c} <= 0" for c in columns)
    return CheckSpec(
        name,
        f"{name}_violations = 0",
        {f"{name}_violations query": f"select count(*) from {{table}} where {cond}"},
        description=f"{', '.join(columns)} > 0",
    )


def non_negative(columns: Sequence[str], *, name: str = "non_negative_volume") -> CheckSpec:
    cond = " or ".join(f"{c} < 0" for c in columns)
    return CheckSpec(
        name,
        f"{name}_violations = 0",
        {f"{name}_violations query": f"select count(*) from {{table}} where {cond}"},
        description=f"{', '.join(columns)} >= 0",
    )


def ohlc_consistency() -> CheckSpec:
    """Candles with ``low <= min(open, close)`` and ``max(open, close) <= high`` broken."""
    return CheckSpec(
        "ohlc_consistency",
        "ohlc_violations = 0",
        {
            "ohlc_violations query": (
                "select count(*) from {table} "
                "where low > least(open, close) or high < greatest(open, close) or low > high"
            )
        },
        description="low <= open, close <= high",
    )


def value_range(column: str, low: float, high: float) -> CheckSpec:
    return CheckSpec(
        f"range_{column}",
        f"range_{column}_violations = 0",
        {
            f"range_{column}_violations query": (
                f"select count(*) from {{table}} where {column} < {low} or {column} > {high}"
            )
        },
        description=f"{low} <= {column} <= {high}",
    )


def gaps(
    key: Sequence[str],
    time_column: str,
    *,
    unit: str = "hour",
    step: int = 1,
    tolerance: int = 0,
    where: str = "",
    window_days: int | None = None,
) -> CheckSpec:
    """Missing buckets inside each series (``key``) of a regular time series.

    Counts, over every pair of consecutive rows of a series, the buckets between them; fails when
    more than ``tolerance`` are missing. ``window_days`` looks only at the last days of the table
    (the data a gate run is about): recorded history holds real exchange outages that must not
    block every later publication.
    """
    partition = ", ".join(key) if key else "1"
    conditions = [where] if where else []
    if window_days is not None:
        inner_where = f" where {where}" if where else ""
        conditions.append(
            f"{time_column} >= (select max({time_column}) from {{table}}{inner_where}) "
            f"- interval '{int(window_days)}' day"
        )
    filt = ("where " + " and ".join(conditions)) if conditions else ""
    inner = (
        f"select {time_column} as t, lag({time_column}) over "
        f"(partition by {partition} order by {time_column}) as prev from {{table}} {filt}"
    )
    return CheckSpec(
        "gaps",
        f"missing_buckets <= {int(tolerance)}",
        {
            "missing_buckets query": (
                f"select coalesce(sum(date_diff('{unit}', prev, t) / {step} - 1), 0) "
                f"from ({inner}) where date_diff('{unit}', prev, t) > {step}"
            )
        },
        description=f"no missing {step}-{unit} buckets per ({partition})"
        + (f" in the last {window_days} days" if window_days is not None else ""),
    )


def reconcile(
    upstream: str,
    upstream_key: Sequence[str],
    key: Sequence[str],
    *,
    where: str = "",
    group: str = "symbol",
) -> list[CheckSpec]:
    """Layers reconcile: every ``upstream_key`` of the ``upstream`` relation is in the audited
    table (``key``, optionally filtered by ``where``), and the counts per ``group`` agree.

    ``missing_upstream_keys`` counts upstream keys the table lacks (e.g. Silver hours Gold never
    got); ``count_mismatches`` counts groups (symbols) whose distinct key counts differ.
    """
    filt = f" where {where}" if where else ""
    up = ", ".join(upstream_key)
    down = ", ".join(key)
    missing = (
        f"select count(*) from (select distinct {up} from {upstream} "
        f"except select {down} from {{table}}{filt})"
    )
    counts = (
        f"select count(*) from (select {group}, count(distinct ({up})) as n from {upstream} "
        f"group by {group}) as u full outer join (select {group}, count(distinct ({down})) as n "
        f"from {{table}}{filt} group by {group}) as d on u.{group} = d.{group} "
        "where u.n is distinct from d.n"
    )
    return [
        CheckSpec(
            "reconciled_keys", "missing_upstream_keys = 0",
            {"missing_upstream_keys query": missing},
            description=f"every ({up}) of {upstream} is in the table",
        ),
        CheckSpec(
            "reconciled_counts", "count_mismatches = 0",
            {"count_mismatches query": counts},
            description=f"distinct keys per {group} agree with {upstream}",
        ),
    ]


def render_suite(table: str, checks: Sequence[CheckSpec], *, dataset: str | None = None) -> str:
    """The SodaCL document of ``checks`` on ``dataset`` (default ``table``)."""
    import yaml  # type: ignore[import-untyped]

    dataset = dataset or table
    doc = {f"checks for {dataset}": [c.render(dataset) for c in checks]}
    return yaml.safe_dump(doc, sort_keys=False, width=10_000)
