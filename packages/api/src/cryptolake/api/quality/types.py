"""GraphQL types of the quality domain."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cryptolake.api.market.types import LakehouseRow


@strawberry.type(description="One quality check result (ops.dq_results).")
class DqResult(LakehouseRow):
    run_id: str
    layer: str
    suite: str
    check_name: str
    table_name: str
    snapshot_id: strawberry.ID | None
    value: float | None
    outcome: str
    message: str | None = strawberry.field(description="the check and why it failed")
    checked_at: datetime


@strawberry.type(description="An alert (ops.alerts) and whether someone acknowledged it.")
class Alert(LakehouseRow):
    alert_id: strawberry.ID
    run_id: str | None
    kind: str
    severity: str
    subject: str
    message: str
    raised_at: datetime
    acknowledged: bool
    acknowledged_at: datetime | None


@strawberry.type
class TableHealth:
    layer: str
    table: str
    rows: int | None
    last_snapshot_id: strawberry.ID | None
    last_commit_at: datetime | None
    newest_event: datetime | None
    freshness_lag_seconds: float | None = strawberry.field(description="now − newest event")
    quality_status: str
    failing_checks: list[str]
