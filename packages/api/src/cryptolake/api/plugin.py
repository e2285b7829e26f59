"""The API as a built-in plugin: its ``cryptolake api`` commands, and the ops events (run steps,
failed gates) it publishes to Kafka for the ``pipelineRuns`` and ``alerts`` subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from cryptolake.core import JobContext, JobResult, PluginManifest, hookimpl

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="api",
    version="0.1.0",
    core_api=">=0.1,<1",
    description="The GraphQL data service: `cryptolake api serve|keys`, ops events for subscriptions",
)

log = logging.getLogger(__name__)


@hookimpl
def cryptolake_register_commands(commands: Any) -> None:
    from cryptolake.api.cli import register

    register(commands)


def _publish(job: JobContext, kind: str, payload: dict[str, Any]) -> None:
    try:
        from cryptolake.api.stream import produce_event

        produce_event(job.settings, kind, payload)
    except Exception:  # - a subscription feed must never fail a job
        log.debug("ops event not published", exc_info=True)


@hookimpl
def cryptolake_before_job(job: JobContext) -> None:
    _publish(job, "run", {"id": job.run_id, "step": f"{job.kind}:{job.name}", "status": "started"})


@hookimpl
def cryptolake_after_job(job: JobContext, result: JobResult) -> None:
    _publish(job, "run", {"id": job.run_id, "step": f"{job.kind}:{job.name}", "status": "succeeded",
                          "rows_out": result.rows_out, "duration_s": result.duration_s})


@hookimpl
def cryptolake_on_job_error(job: JobContext, error: BaseException) -> None:
    _publish(job, "run", {"id": job.run_id, "step": f"{job.kind}:{job.name}", "status": "failed",
                          "error": f"{type(error).__name__}: {error}"[:500]})


@hookimpl
def cryptolake_quality_gate_failed(layer: str, results: Sequence[Any]) -> None:
    from cryptolake.core import get_settings

    failed = [f"{r.table}:{r.check}" for r in results if getattr(r, "failed", False)]
    try:
        from cryptolake.api.stream import produce_event

        produce_event(get_settings(), "alert", {"id": f"gate-{layer}", "severity": "error",
                                                 "subject": f"gate {layer}", "failed": failed})
    except Exception:
        log.debug("alert event not published", exc_info=True)
