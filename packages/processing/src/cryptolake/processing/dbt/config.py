"""What the ``dbt.gold`` transform can be told, and the schema names of write-audit-publish."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: Environment variable naming the dbt project directory (default: ``transform/`` of the repo).
PROJECT_DIR_ENV = "CRYPTOLAKE_DBT__PROJECT_DIR"
#: Schema dbt writes into (the audit side of write-audit-publish).
AUDIT_SCHEMA = "gold_audit"
#: Schema readers use (the publish side).
PUBLISHED_SCHEMA = "gold"
#: The Silver tables the dbt sources read (``transform/models/staging/_silver__sources.yml``).
SILVER_INPUTS: tuple[str, ...] = ("ohlcv_1h", "market_daily", "fear_greed")


def _gold() -> Any:
    from cryptolake.core.tables.gold import CONTRACTS

    return CONTRACTS


def marts() -> tuple[str, ...]:
    """The published marts: every Gold table contract (``cryptolake.core.tables.gold``)."""
    return tuple(sorted(c.name for c in _gold()))


def mart_partitioning() -> dict[str, tuple[str, ...]]:
    """Trino partitioning of each mart, rendered from its contract."""
    out: dict[str, tuple[str, ...]] = {}
    for c in _gold():
        out[c.name] = tuple(
            p.column if p.transform == "identity" else f"{p.transform}({p.column})"
            for p in c.partition_by
        )
    return out


#: Models copied from the audit schema into the published schema.
MARTS: tuple[str, ...] = marts()
#: Partitioning of the published marts (the same as the dbt models and the contracts declare).
MART_PARTITIONING: dict[str, tuple[str, ...]] = mart_partitioning()


class DbtBuildConfig(BaseModel):
    """Configuration of the ``dbt.gold`` transform."""

    select: list[str] = Field(default_factory=list, description="dbt --select")
    exclude: list[str] = Field(default_factory=list, description="dbt --exclude")
    full_refresh: bool = Field(False, description="rebuild incremental models from scratch")
    publish: bool = Field(True, description="publish the marts when the gate passes")
    silver_schema: str = Field("silver", description="namespace of the Silver tables")
    audit_schema: str = Field(AUDIT_SCHEMA, description="namespace dbt writes and the gate audits")
    published_schema: str = Field(PUBLISHED_SCHEMA, description="namespace readers use")
    ops_namespace: str | None = Field(None, description="namespace of dq_results/alerts (ops)")
    gap_tolerance: int = Field(0, description="missing buckets the Gold gate tolerates per table")
    gap_window_days: int | None = Field(7, description="Gold gate looks for gaps in the last N days")
    max_staleness_hours: float = Field(48.0, description="Gold freshness limit (loaded_at)")
    change_slack_minutes: float = Field(
        60.0, ge=0, description="when Silver is read at its heads (no Silver publication), "
        "also rebuild Silver rows changed this long before the last Gold build's watermark "
        "(rows committed late relative to their updated_at)"
    )
    read_published_silver: bool = Field(
        True, description="read Silver at the snapshots of its latest publication (when there "
        "is one for the Silver namespace), not at the tables' heads"
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="extra dbt vars")
    threads: int = Field(
        4, ge=1, description="dbt threads: models and tests in flight at once (on two cores, "
        "4 overlap the coordinator's per-statement latency; python bench/gold_build.py)"
    )
    suite_threads: int = Field(
        4, ge=1, description="Gold suites declared concurrent run this many at a time"
    )
    skip_unchanged: bool = Field(
        True, description="when the build would read the very Silver snapshots the latest Gold "
        "publication was built from, with the same dbt project and settings, and published Gold "
        "is untouched since, skip dbt (its models and tests could only give the same result) and "
        "run the Gold Soda suites on published Gold instead (freshness still alarms)"
    )
