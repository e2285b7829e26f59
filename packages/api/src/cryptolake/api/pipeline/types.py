"""GraphQL types of the pipeline domain."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from cryptolake.api.common import utc
from cryptolake.api.market.types import LakehouseRow


@strawberry.type
class PipelineStep:
    step: str
    step_index: int | None
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    rows_in: int | None
    rows_out: int | None
    rejected: int | None
    snapshot_ids: strawberry.scalars.JSON | None
    gate: str | None
    error: str | None


@strawberry.type(description="One pipeline run (ops.pipeline_runs), its status and its steps.")
class PipelineRun(LakehouseRow):
    run_id: strawberry.ID
    pipeline: str
    source: str | None
    via: str | None
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    status: str = strawberry.field(description="running | succeeded | failed")
    error: str | None

    @strawberry.field
    async def steps(self, info: Info) -> list[PipelineStep]:
        import json

        rows = await info.context.loaders.steps(self.reader_).load(str(self.run_id))
        out = []
        for r in rows:
            try:
                sids = json.loads(r["snapshot_ids"]) if r["snapshot_ids"] else None
            except ValueError:
                sids = None
            out.append(PipelineStep(
                step=r["step"], step_index=r["step_index"], status=r["status"],
                started_at=utc(r["started_at"]), ended_at=utc(r["ended_at"]), rows_in=r["rows_in"],
                rows_out=r["rows_out"], rejected=r["rejected"], snapshot_ids=sids, gate=r["gate"],
                error=r["error"]))
        return out


@strawberry.type(description="A queued job: follow it with pipelineRun(id) or the subscription.")
class RunTicket:
    run_id: strawberry.ID
    pipeline: str
    status: str
    task_id: str | None
