"""Root query fields of the pipeline domain."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from cryptolake.api.common import AsOf, Connection, MissingTableError, page_size, reader
from cryptolake.api.errors import NotFoundError
from cryptolake.api.pipeline.types import PipelineRun
from cryptolake.api.quality.queries import _offset, offset_connection, run_node
from cryptolake.api.repositories import ops as repo


@strawberry.type
class PipelineQuery:
    @strawberry.field(description="Pipeline runs, newest first, with their steps.")
    async def pipeline_runs(
        self, info: Info, pipeline: str | None = None, status: str | None = None,
        first: int | None = None, after: str | None = None, as_of: AsOf | None = None,
    ) -> Connection[PipelineRun]:
        n = page_size(info, first)
        start = _offset(after)
        r = reader(info, as_of, repo.RUNS)
        try:
            rows = await repo.runs(r, None, pipeline, status, start, n + 1)
        except MissingTableError:
            rows = []
        return offset_connection([run_node(r, x) for x in rows], n, start)

    @strawberry.field(description="One pipeline run by id, with its steps.")
    async def pipeline_run(self, info: Info, id: strawberry.ID, as_of: AsOf | None = None) -> PipelineRun:
        r = reader(info, as_of, repo.RUNS)
        try:
            rows = await repo.runs(r, str(id), None, None, 0, 1)
        except MissingTableError:
            rows = []
        if not rows:
            raise NotFoundError(f"no pipeline run {str(id)!r} in ops.pipeline_runs; "
                                "list them with pipelineRuns", id=str(id))
        return run_node(r, rows[0])


TABLES = {"pipelineRuns": [repo.RUNS], "pipelineRun": [repo.RUNS]}
