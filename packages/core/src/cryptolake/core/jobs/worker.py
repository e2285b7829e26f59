"""The Celery app: one task per job kind, pipelines as canvases, schedules by beat.

Tasks (keyword-only arguments, ``acks_late``, retried with backoff on :class:`TransientError`
only, the run id carried into every log record):

==========================================  ======  =============================================
task                                        queue   what it runs
==========================================  ======  =============================================
``cryptolake.ingest.run_source``            light   a source entry (batch ingest, replay)
``cryptolake.processing.run_transform``     heavy   a transform entry (Spark job, dbt build, …)
``cryptolake.processing.run_gate``          light   a layer's quality gate (``gate.<layer>``)
``cryptolake.processing.run_maintenance``   heavy   Iceberg maintenance
``cryptolake.core.start_pipeline``          light   builds a pipeline's chain and launches it
``cryptolake.core.finish_pipeline``         light   records the end of a pipeline run
``cryptolake.processing.check_stream``      light   restarts the stream job if it died
==========================================  ======  =============================================

The ``heavy`` queue is consumed with concurrency 1 so two Spark jobs never share the cores.
Redis is the broker (persistent: ``appendonly yes``), with a visibility timeout longer than any
job, so a task of a killed worker is redelivered; steps are idempotent (``MERGE INTO``), so a
redelivered step adds no duplicate rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any

from celery import Celery, Task, chain, signals
from celery.schedules import crontab

from cryptolake.core.errors import TransientError
from cryptolake.core.logging import bind, configure
from cryptolake.core.manager import PluginHost, build_plugin_manager
from cryptolake.core.pipeline import (
    PipelineRun,
    Step,
    daily_pipeline,
    execute_step,
    maintenance_pipeline,
    record_run,
    record_step,
)
from cryptolake.core.pipeline._model import StepOutcome
from cryptolake.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

HEAVY_QUEUE = "cryptolake.heavy"
LIGHT_QUEUE = "cryptolake.light"


def make_app(settings: Settings | None = None) -> Celery:
    s = settings or get_settings()
    app = Celery(
        "cryptolake", broker=s.redis_url(s.jobs.broker_db), backend=s.redis_url(s.jobs.result_db)
    )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": s.jobs.visibility_timeout_s},
        task_default_queue=LIGHT_QUEUE,
        task_routes={
            "cryptolake.processing.run_transform": {"queue": HEAVY_QUEUE},
            "cryptolake.processing.run_maintenance": {"queue": HEAVY_QUEUE},
        },
        timezone="UTC",
        beat_schedule=beat_schedule(s),
        beat_schedule_filename=str(s.home / "celerybeat-schedule"),
    )
    return app


def _cron(expr: str) -> crontab:
    minute, hour, day_of_month, month, day_of_week = expr.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                   day_of_week=day_of_week)


def beat_schedule(s: Settings) -> dict[str, Any]:
    return {
        "daily-pipeline": {
            "task": "cryptolake.core.start_pipeline",
            "schedule": _cron(s.jobs.daily_pipeline_cron),
            "kwargs": {"pipeline": "daily", "source": s.jobs.daily_source},
        },
        "maintenance": {
            "task": "cryptolake.core.start_pipeline",
            "schedule": _cron(s.jobs.maintenance_cron),
            "kwargs": {"pipeline": "maintenance", "source": "n/a"},
        },
        "stream-check": {
            "task": "cryptolake.processing.check_stream",
            "schedule": float(s.jobs.stream_check_s),
        },
    }


app = make_app()


@cache
def _host() -> PluginHost:
    """One plugin host per worker process."""
    return build_plugin_manager()


@signals.worker_process_init.connect
@signals.beat_init.connect
def _configure_logging(**_: Any) -> None:
    s = get_settings()
    configure(s.log.level, s.log.format)


class StepTask(Task):  # type: ignore[misc]
    """Retries transient errors with exponential backoff and jitter; nothing else."""

    autoretry_for = (TransientError,)
    retry_backoff = 5
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 5
    acks_late = True


def _run_step(*, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    pipeline_run = PipelineRun.from_dict(run)
    the_step = Step.from_dict(step)
    with bind(run_id=pipeline_run.run_id, step=the_step.label):
        outcome = execute_step(_host(), pipeline_run, index, the_step)
    return {"step": the_step.label, "status": outcome.status, "rows_in": outcome.rows_in,
            "rows_out": outcome.rows_out, "rejected": outcome.rejected,
            "duration_s": outcome.duration_s, "gate": outcome.gate}


@app.task(name="cryptolake.ingest.run_source", base=StepTask, bind=True)
def run_source(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(run=run, index=index, step=step)


@app.task(name="cryptolake.processing.run_transform", base=StepTask, bind=True)
def run_transform(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(run=run, index=index, step=step)


@app.task(name="cryptolake.processing.run_gate", base=StepTask, bind=True)
def run_gate(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    """A failed gate raises QualityGateFailed (terminal, not retried): the chain stops there."""
    return _run_step(run=run, index=index, step=step)


@app.task(name="cryptolake.processing.run_maintenance", base=StepTask, bind=True)
def run_maintenance(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(run=run, index=index, step=step)


TASK_FOR_KIND = {"ingest": run_source, "transform": run_transform, "gate": run_gate}


def _signature(run: PipelineRun, index: int, step: Step) -> Any:
    task = run_maintenance if step.name.startswith("maintenance") else TASK_FOR_KIND[step.kind]
    # immutable: a step does not receive the previous step's result
    return task.si(run=run.as_dict(), index=index, step=step.as_dict())


def build_chain(run: PipelineRun, steps: list[Step]) -> Any:
    """The pipeline as a Celery chain ending with ``finish_pipeline``; a failure calls
    ``fail_pipeline``, which records the remaining steps as skipped."""
    sigs = [_signature(run, i, s) for i, s in enumerate(steps)]
    started = datetime.now(UTC).isoformat()
    finish = finish_pipeline.si(run=run.as_dict(), started=started)
    on_error = fail_pipeline.si(
        run=run.as_dict(), started=started, steps=[s.as_dict() for s in steps]
    )
    return chain(*sigs, finish).on_error(on_error)


def plan(pipeline: str, source: str, host: PluginHost | None = None) -> list[Step]:
    host = host or _host()
    if pipeline == "daily":
        return daily_pipeline(host, source=source)
    if pipeline == "maintenance":
        return maintenance_pipeline(host)
    raise ValueError(f"unknown pipeline {pipeline!r}; known: daily, maintenance")


@app.task(name="cryptolake.core.start_pipeline")
def start_pipeline(
    *, pipeline: str, source: str, start: str | None = None, end: str | None = None
) -> str:
    """Plan the pipeline and launch its chain; returns the run id."""
    run = PipelineRun(
        pipeline=pipeline, source=source,
        start=datetime.fromisoformat(start) if start else None,
        end=datetime.fromisoformat(end) if end else None, via="workers",
    )
    build_chain(run, plan(pipeline, source)).apply_async()
    log.info("pipeline %s started as run %s", pipeline, run.run_id)
    return run.run_id


@app.task(name="cryptolake.core.finish_pipeline")
def finish_pipeline(*, run: dict[str, Any], started: str) -> str:
    record_run(get_settings(), PipelineRun.from_dict(run), "succeeded", datetime.fromisoformat(started))
    return "succeeded"


@app.task(name="cryptolake.core.fail_pipeline")
def fail_pipeline(*, run: dict[str, Any], started: str, steps: list[dict[str, Any]]) -> str:
    """Record the run as failed and the steps that never ran as skipped."""
    from cryptolake.core.pipeline import steps_of

    settings = get_settings()
    pipeline_run = PipelineRun.from_dict(run)
    done = {r["step"]: r for r in steps_of(settings, pipeline_run.run_id)}
    failed = [label for label, r in done.items() if r["status"] == "failed"]
    for index, raw in enumerate(steps):
        step = Step.from_dict(raw)
        if step.label not in done:
            record_step(settings, pipeline_run, index,
                        StepOutcome(step=step, status="skipped",
                                    error=f"after {', '.join(failed) or 'a failure'}"),
                        datetime.now(UTC))
    error = "; ".join(f"{label}: {done[label]['error']}" for label in failed) or "a step failed"
    record_run(settings, pipeline_run, "failed", datetime.fromisoformat(started), error)
    return "failed"


@app.task(name="cryptolake.processing.check_stream")
def check_stream() -> str:
    """Restart the stream job when it is not running (transforms with the streaming capability)."""
    host = _host()
    restarted = []
    for entry in host.transforms:
        if "streaming" not in entry.capabilities:
            continue
        impl = entry.load()(entry.configure({}))
        ensure = getattr(impl, "ensure_running", None)
        if callable(ensure) and ensure():
            restarted.append(entry.name)
    if restarted:
        log.warning("stream job(s) restarted: %s", ", ".join(restarted))
    return ",".join(restarted) or "ok"
