"""Mutations of the models domain: queue a retraining on Celery (task of cryptolake-ml, by name)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from cryptolake.api.permissions import IsOperator
from cryptolake.api.pipeline.types import RunTicket

RETRAIN_TASK = "cryptolake.ml.retrain_models"
#: the pipeline name cryptolake-ml records a retraining under in ops.pipeline_runs
RETRAIN_PIPELINE = "ml.retrain"


def _send(kwargs: dict[str, Any]) -> str:
    """Queue the retraining with a run id of ours, so the answer names the run to follow."""
    from cryptolake.core.jobs.worker import make_app

    run_id = uuid.uuid4().hex[:12]
    app = make_app()
    try:
        app.send_task(RETRAIN_TASK, kwargs={**kwargs, "run_id": run_id}, task_id=run_id)
    finally:
        app.close()
    return run_id


@strawberry.type
class ModelsMutation:
    @strawberry.mutation(extensions=[PermissionExtension(permissions=[IsOperator()])],
                         description="Queue a retraining of the models; follow it with retrainStatus.")
    async def retrain_models(self, info: Info, symbols: list[str] | None = None,
                             fast: bool = False) -> RunTicket:
        args: dict[str, Any] = {}
        if symbols:
            args["symbols"] = [s.strip().upper() for s in symbols]
        if fast:
            args["fast"] = True
        loop = asyncio.get_running_loop()
        run_id = await loop.run_in_executor(info.context.app.lakehouse.pool, _send, args)
        return RunTicket(run_id=strawberry.ID(run_id), pipeline=RETRAIN_PIPELINE, status="queued",
                         task_id=run_id)
