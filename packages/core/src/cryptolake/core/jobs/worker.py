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

Nothing is built at import time: :func:`make_app` makes a Celery app with its tasks (``cryptolake
worker`` and ``cryptolake beat`` call it), and each app builds its plugin host lazily, once per
worker process. ``celery -A cryptolake.core.jobs.worker`` still finds an app: the module attribute
``app`` is made on first access (:func:`get_app`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from celery import Celery, Task, chain, signals
from celery.schedules import crontab

from cryptolake.core.errors import TransientError, transient_cause
from cryptolake.core.jobs import StreamingTransform
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


class CryptoLakeCelery(Celery):  # type: ignore[misc]
    """A Celery app that carries the settings it was made from and its plugin host."""

    def __init__(self, settings: Settings, host: PluginHost | None = None, **kwargs: Any) -> None:
        super().__init__("cryptolake", **kwargs)
        self.cryptolake_settings = settings
        self._plugin_host = host

    @property
    def plugin_host(self) -> PluginHost:
        """The plugin host of this process, built on first use (after the pool forked)."""
        if self._plugin_host is None:
            self._plugin_host = build_plugin_manager(self.cryptolake_settings, plugins=_measuring())
        return self._plugin_host


def _measuring() -> list[object]:
    """The metrics plugin, in a process tree that serves metrics (``cryptolake worker``)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return []
    try:
        from cryptolake.core.metrics import JobMetrics
    except ImportError:  # the [metrics] extra is not installed
        return []
    return [JobMetrics()]


def make_app(settings: Settings | None = None, host: PluginHost | None = None) -> CryptoLakeCelery:
    """A Celery app with every CryptoLake task and the beat schedule, from ``settings``."""
    s = settings or get_settings()
    app = CryptoLakeCelery(
        s, host, broker=s.redis_url(s.jobs.broker_db), backend=s.redis_url(s.jobs.result_db)
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
    _register_tasks(app)
    if not s.jobs.periodic:  # the plugins' scheduled work (model retrain …) is not sent either
        app.conf.beat_schedule = beat_schedule(s)
    signals.worker_process_init.connect(_configure_logging, weak=False,
                                        dispatch_uid="cryptolake.logging")
    signals.beat_init.connect(_configure_logging, weak=False, dispatch_uid="cryptolake.logging.beat")
    return app


def restore_orphaned_tasks(app: Celery, timeout: float = 2.0) -> int | None:
    """Put back on their queues the tasks a killed worker had taken but not acknowledged —
    when no other worker is alive to be running them. Returns how many, or ``None`` when
    another worker answered (its tasks in flight are left alone: they come back after the
    visibility timeout if it dies too).

    Called as a worker starts, before it consumes: a worker killed mid-task (``kill -9``, OOM)
    and started again by the supervisor then resumes the chain at once instead of after the
    visibility timeout (6 h by default). Steps are idempotent, so a task that had in fact
    finished is only run once more."""
    alive = [name for reply in (app.control.ping(timeout=timeout) or []) for name in reply]
    if alive:
        log.info("workers alive (%s): their unacknowledged tasks are left to them",
                 ", ".join(sorted(alive)))
        return None
    restored = 0
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        qos = getattr(channel, "qos", None)
        if qos is None or not hasattr(qos, "restore_by_tag"):
            return 0  # not the Redis transport
        with channel.conn_or_acquire() as client:
            for tag in client.zrange(qos.unacked_index_key, 0, -1):
                qos.restore_by_tag(tag, client)
                restored += 1
    if restored:
        log.warning("restored %d task(s) a stopped worker had not finished", restored)
    return restored


@cache
def get_app() -> CryptoLakeCelery:
    """The app of this process's settings, made once (what ``celery -A`` finds as ``app``)."""
    return make_app()


def __getattr__(name: str) -> Any:
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cron(expr: str) -> crontab:
    minute, hour, day_of_month, month, day_of_week = expr.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                   day_of_week=day_of_week)


def beat_schedule(s: Settings) -> dict[str, Any]:
    """What beat sends: the stream check always; the scheduled runs unless ``jobs.periodic`` is
    off (the test run's stack, whose tests start every run themselves)."""
    check = {
        "stream-check": {
            "task": "cryptolake.processing.check_stream",
            "schedule": float(s.jobs.stream_check_s),
        },
    }
    if not s.jobs.periodic:
        return check
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
        **check,
    }


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


class BookkeepingTask(Task):  # type: ignore[misc]
    """``finish_pipeline`` / ``fail_pipeline``: they only write ``ops.pipeline_runs``, so they
    retry for as long as the catalog may reasonably be restarting (a run whose end is never
    recorded looks "running" forever)."""

    autoretry_for = (TransientError,)
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 20
    acks_late = True


@contextmanager
def _retried_when_transient(label: str) -> Iterator[None]:
    """Errors of a service that went away (PostgreSQL, S3, Trino restarting; see
    :func:`~cryptolake.core.errors.transient_cause`) become a :class:`TransientError` naming
    ``label``, which the task retries with backoff; anything else fails the task at once."""
    try:
        yield
    except TransientError:
        raise
    except Exception as exc:
        why = transient_cause(exc)
        if why is None:
            raise
        log.warning("%s: %s; retrying", label, why)
        raise TransientError(f"{label}: {why}") from exc


def _bookkeeping(fn: Callable[..., str]) -> Callable[..., str]:
    """``fn`` with the errors of a service that went away turned into :class:`TransientError`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        with _retried_when_transient(fn.__name__):
            return fn(*args, **kwargs)

    return wrapper


def _host(task: Task) -> PluginHost:
    app = task.app
    if isinstance(app, CryptoLakeCelery):
        return app.plugin_host
    return _default_host()


@cache
def _default_host() -> PluginHost:
    return build_plugin_manager()


def _run_step(
    task: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]
) -> dict[str, Any]:
    pipeline_run = PipelineRun.from_dict(run)
    the_step = Step.from_dict(step)
    with bind(run_id=pipeline_run.run_id, step=the_step.label), \
            _retried_when_transient(the_step.label):
        outcome = execute_step(_host(task), pipeline_run, index, the_step)
    return {"step": the_step.label, "status": outcome.status, "rows_in": outcome.rows_in,
            "rows_out": outcome.rows_out, "rejected": outcome.rejected,
            "duration_s": outcome.duration_s, "gate": outcome.gate}


def run_source(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(self, run=run, index=index, step=step)


def run_transform(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(self, run=run, index=index, step=step)


def run_gate(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    """A failed gate raises QualityGateFailed (terminal, not retried): the chain stops there."""
    return _run_step(self, run=run, index=index, step=step)


def run_maintenance(self: Task, *, run: dict[str, Any], index: int, step: dict[str, Any]) -> dict[str, Any]:
    return _run_step(self, run=run, index=index, step=step)


TASK_FOR_KIND = {
    "ingest": "cryptolake.ingest.run_source",
    "transform": "cryptolake.processing.run_transform",
    "gate": "cryptolake.processing.run_gate",
}
MAINTENANCE_TASK = "cryptolake.processing.run_maintenance"


def _signature(app: Celery, run: PipelineRun, index: int, step: Step) -> Any:
    task = MAINTENANCE_TASK if step.name.startswith("maintenance") else TASK_FOR_KIND[step.kind]
    # immutable: a step does not receive the previous step's result
    return app.signature(task, kwargs={"run": run.as_dict(), "index": index, "step": step.as_dict()},
                         immutable=True)


def build_chain(run: PipelineRun, steps: list[Step], app: Celery | None = None) -> Any:
    """The pipeline as a Celery chain ending with ``finish_pipeline``; a failure calls
    ``fail_pipeline``, which records the remaining steps as skipped."""
    app = app or get_app()
    sigs = [_signature(app, run, i, s) for i, s in enumerate(steps)]
    started = datetime.now(UTC).isoformat()
    finish = app.signature("cryptolake.core.finish_pipeline",
                           kwargs={"run": run.as_dict(), "started": started}, immutable=True)
    on_error = app.signature(
        "cryptolake.core.fail_pipeline",
        kwargs={"run": run.as_dict(), "started": started, "steps": [s.as_dict() for s in steps]},
        immutable=True,
    )
    return chain(*sigs, finish).on_error(on_error)


def plan(pipeline: str, source: str, host: PluginHost | None = None) -> list[Step]:
    host = host or _default_host()
    if pipeline == "daily":
        return daily_pipeline(host, source=source)
    if pipeline == "maintenance":
        return maintenance_pipeline(host)
    raise ValueError(f"unknown pipeline {pipeline!r}; known: daily, maintenance")


def start_pipeline(
    self: Task, *, pipeline: str, source: str, start: str | None = None, end: str | None = None
) -> str:
    """Plan the pipeline and launch its chain; returns the run id."""
    run = PipelineRun(
        pipeline=pipeline, source=source,
        start=datetime.fromisoformat(start) if start else None,
        end=datetime.fromisoformat(end) if end else None, via="workers",
    )
    build_chain(run, plan(pipeline, source, _host(self)), self.app).apply_async()
    log.info("pipeline %s started as run %s", pipeline, run.run_id)
    return run.run_id


def finish_pipeline(*, run: dict[str, Any], started: str) -> str:
    record_run(get_settings(), PipelineRun.from_dict(run), "succeeded", datetime.fromisoformat(started))
    return "succeeded"


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


def check_stream(self: Task) -> str:
    """Restart the stream job when it is not running (transforms with the ``streaming``
    capability, whose implementation follows :class:`~cryptolake.core.jobs.StreamingTransform`)."""
    host = _host(self)
    restarted = []
    for entry in host.transforms:
        if "streaming" not in entry.capabilities:
            continue
        impl = entry.load()(entry.configure({}))
        if not isinstance(impl, StreamingTransform):
            log.warning("transform %s declares 'streaming' but has no ensure_running(); see "
                        "cryptolake.core.StreamingTransform", entry.name)
            continue
        if impl.ensure_running():
            restarted.append(entry.name)
    if restarted:
        log.warning("stream job(s) restarted: %s", ", ".join(restarted))
    return ",".join(restarted) or "ok"


def _register_tasks(app: Celery) -> None:
    """Every CryptoLake task, on ``app`` (names are the contract; see the module docstring)."""
    for name, fn in (
        ("cryptolake.ingest.run_source", run_source),
        ("cryptolake.processing.run_transform", run_transform),
        ("cryptolake.processing.run_gate", run_gate),
        ("cryptolake.processing.run_maintenance", run_maintenance),
    ):
        app.task(name=name, base=StepTask, bind=True)(fn)
    app.task(name="cryptolake.core.start_pipeline", bind=True)(start_pipeline)
    app.task(name="cryptolake.core.finish_pipeline", base=BookkeepingTask)(
        _bookkeeping(finish_pipeline))
    app.task(name="cryptolake.core.fail_pipeline", base=BookkeepingTask)(_bookkeeping(fail_pipeline))
    app.task(name="cryptolake.processing.check_stream", bind=True)(check_stream)
    _register_plugin_tasks(app)


#: Entry-point group of plugin distributions that add Celery tasks: each entry names a function
#: ``register_tasks(app)`` that adds tasks, routes and beat entries (cryptolake-ml's ML tasks).
TASKS_ENTRY_POINT_GROUP = "cryptolake.tasks"


def _register_plugin_tasks(app: Celery) -> None:
    """Tasks of plugin distributions (skipped when the plugin of the same name is disabled)."""
    from importlib import metadata

    settings = getattr(app, "cryptolake_settings", None) or get_settings()
    for ep in sorted(metadata.entry_points(group=TASKS_ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in settings.plugins.disabled:
            continue
        try:
            ep.load()(app)
        except Exception:  # a broken plugin must not take the worker down
            log.exception("tasks of plugin %s not registered", ep.name)
