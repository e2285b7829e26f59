"""Value types shared by the domains and the loaders — a leaf module, so both can use them."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry


@strawberry.type(description="The latest quality gate of the table a value was read from.")
class Quality:
    table: str
    status: str = strawberry.field(description="pass | warn | fail | unchecked")
    failed_checks: list[str]
    checked_at: datetime | None
    snapshot_id: strawberry.ID | None = strawberry.field(
        description="snapshot the checks ran on")


def utc(d: datetime | None) -> datetime | None:
    if d is None:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)
