"""Mutations of the models domain: queue a retraining on Celery (task of cryptolake-ml, by name)."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from cryptolake.api.permissions import IsOperator
from cryptolake.api.pipeline.types import RunTicket

RETRAIN_TASK = "cryptolake.ml.retrain_models"


def _send(args: dict[str, Any]) -> str:
    from cryptolake.core.jobs.worker import make_app

    app = make_app()
    try:
        return str(app.send_task(RETRAIN_TASK, args=[args] if args else []).id)
    finally:
        app.close()


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
        task = await loop.run_in_executor(info.context.app.lakehouse.pool, _send, args)
        return RunTicket(run_id=strawberry.ID(task), pipeline="retrain", status="queued", task_id=task)
