"""Mutations of the quality domain."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from cryptolake.api.common import MissingTableError, reader
from cryptolake.api.errors import NotFoundError
from cryptolake.api.extensions import bump_acks
from cryptolake.api.permissions import IsOperator
from cryptolake.api.repositories import ops as repo


@strawberry.type
class AlertAck:
    alert_id: strawberry.ID
    acknowledged_at: datetime


@strawberry.type
class QualityMutation:
    @strawberry.mutation(extensions=[PermissionExtension(permissions=[IsOperator()])],
                         description="Mark an alert as seen (idempotent).")
    async def acknowledge_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> AlertAck:
        r = reader(info, None, repo.ALERTS)
        try:
            found = await repo.alert(r, str(id))
        except MissingTableError:
            found = None
        if found is None:
            raise NotFoundError(f"no alert {str(id)!r} in ops.alerts; list them with `alerts`", id=str(id))
        ctx = info.context
        loop = asyncio.get_running_loop()
        at = await loop.run_in_executor(ctx.app.lakehouse.pool, ctx.app.keys.acknowledge, str(id),
                                        ctx.key.key_id if ctx.key else None, note)
        await bump_acks(ctx.app.redis)  # cached `alerts` answers predate this acknowledgement
        return AlertAck(alert_id=id, acknowledged_at=at)
