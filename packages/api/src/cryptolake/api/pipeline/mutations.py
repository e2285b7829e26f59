"""Mutations of the pipeline domain: queue a pipeline or maintenance run on Celery."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from cryptolake.api.common import utc
from cryptolake.api.errors import BadArgumentError
from cryptolake.api.permissions import IsOperator
from cryptolake.api.pipeline.types import RunTicket


@functools.cache
def _host() -> Any:
    from cryptolake.core import build_plugin_manager

    return build_plugin_manager()


def _enqueue(pipeline: str, source: str, start: datetime | None, end: datetime | None) -> tuple[str, str]:
    from cryptolake.core.jobs.worker import build_chain
    from cryptolake.core.pipeline import PipelineRun, daily_pipeline, maintenance_pipeline

    host = _host()
    run = PipelineRun(pipeline=pipeline, source=source, start=start, end=end, via="workers")
    steps = daily_pipeline(host, source=source) if pipeline == "daily" else maintenance_pipeline(host)
    result = build_chain(run, steps).apply_async()
    return run.run_id, str(result.id)


@strawberry.type
class PipelineMutation:
    @strawberry.mutation(extensions=[PermissionExtension(permissions=[IsOperator()])],
                         description="Queue the daily pipeline over [from, to) on the workers.")
    async def run_pipeline(
        self, info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        feed: Annotated[str, strawberry.argument(name="source")] = "replay",
    ) -> RunTicket:
        source = feed
        if source not in ("replay", "live"):
            raise BadArgumentError(f"source must be replay or live, not {source!r}")
        start, end = utc(from_), utc(to)
        if start and end and start >= end:
            raise BadArgumentError("`from` must be before `to`")
        loop = asyncio.get_running_loop()
        run_id, task = await loop.run_in_executor(info.context.app.lakehouse.pool, _enqueue, "daily",
                                                  source, start, end)
        return RunTicket(run_id=strawberry.ID(run_id), pipeline="daily", status="queued", task_id=task)

    @strawberry.mutation(extensions=[PermissionExtension(permissions=[IsOperator()])],
                         description="Queue Iceberg maintenance on the workers.")
    async def run_maintenance(self, info: Info) -> RunTicket:
        loop = asyncio.get_running_loop()
        run_id, task = await loop.run_in_executor(info.context.app.lakehouse.pool, _enqueue,
                                                  "maintenance", "n/a", None, None)
        return RunTicket(run_id=strawberry.ID(run_id), pipeline="maintenance", status="queued", task_id=task)
