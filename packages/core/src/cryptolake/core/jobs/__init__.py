"""What a job is: its context, its result, and the protocols family implementations follow.

:func:`run_job` wraps every job — ingest, transform, quality gate, training — with the lifecycle
hooks (before / after / on-error) and carries the run id into the logs. Every lifecycle hook goes
through the host's isolation: a plugin whose hook raises is logged with its name, and the job goes
on (see :class:`~cryptolake.core.manager.PluginHost`).

This module imports neither the plugin host nor the hook specs: :class:`Host` is the structural
type of what a job may use on the host, so the host, the specs and the jobs form no import cycle.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from cryptolake.core.logging import bind
from cryptolake.core.results import CheckResult, JobResult

if TYPE_CHECKING:
    from cryptolake.core.registry import (
        ModelRegistry,
        QualityRegistry,
        SourceRegistry,
        TransformRegistry,
    )
    from cryptolake.core.settings import Settings
    from cryptolake.core.tables import TableRegistry

log = logging.getLogger(__name__)


class Host(Protocol):
    """What a running job may use on its plugin host (:class:`~cryptolake.core.PluginHost`
    implements it; a test may pass anything that does)."""

    settings: Settings

    @property
    def sources(self) -> SourceRegistry: ...
    @property
    def transforms(self) -> TransformRegistry: ...
    @property
    def quality(self) -> QualityRegistry: ...
    @property
    def models(self) -> ModelRegistry: ...
    @property
    def tables(self) -> TableRegistry: ...

    def before_job(self, job: JobContext) -> None: ...
    def after_job(self, job: JobContext, result: JobResult) -> None: ...
    def on_job_error(self, job: JobContext, error: BaseException) -> None: ...
    def batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None: ...
    def quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None: ...
    def model_promoted(self, model: str, version: str, metrics: dict[str, float]) -> None: ...
    def select_champion(
        self, target: str, candidates: Sequence[Mapping[str, object]]
    ) -> str | None: ...


@dataclass
class JobContext:
    """Everything a running job may use: the settings, the plugin host, a run id, its window."""

    kind: str
    name: str
    settings: Settings
    host: Host
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    start: datetime | None = None
    end: datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Called with (done, total, message) by jobs that can report progress.
    progress: Callable[[int, int | None, str], None] | None = None
    #: Layer → the namespace the job reads and writes for it (tests give private ones); a layer
    #: not listed is its own namespace (``bronze`` → ``bronze``).
    namespaces: dict[str, str] = field(default_factory=dict)
    #: Makes the Iceberg catalog (default: the stack's, :func:`cryptolake.core.clients.load_catalog`).
    catalog_factory: Callable[[], Any] | None = None

    def namespace(self, layer: str) -> str:
        """The namespace to use for ``layer`` in this run (``ctx.namespace("bronze")``)."""
        return self.namespaces.get(layer, layer)

    def identifier(self, table: str) -> str:
        """``"bronze.x"`` in this run's namespaces (``"t_1a2b_bronze.x"`` in a test sandbox)."""
        layer, _, name = table.partition(".")
        return f"{self.namespace(layer)}.{name}"

    def catalog(self) -> Any:
        """The pyiceberg catalog this run writes to (needs the ``lakehouse`` extra). Use it with
        :func:`~cryptolake.core.tables.ensure_table` and ``ctx.namespace(layer)``."""
        if self.catalog_factory is not None:
            return self.catalog_factory()
        from cryptolake.core.clients import load_catalog

        return load_catalog(self.settings)

    def report(self, done: int, total: int | None = None, message: str = "") -> None:
        if self.progress is not None:
            self.progress(done, total, message)

    def committed(self, table: str, snapshot_id: int | None, rows: int) -> None:
        """Announce a commit to Iceberg ``table`` to every plugin (``cryptolake_batch_committed``).

        A plugin whose hook raises is logged; the commit stands and the job goes on.
        """
        self.host.batch_committed(table=table, snapshot_id=snapshot_id, rows=rows, source=self.name)


@runtime_checkable
class Job(Protocol):
    """Implementation of a source or transform entry: built from its config, then run."""

    def __init__(self, config: BaseModel) -> None: ...

    def run(self, ctx: JobContext) -> JobResult: ...


@runtime_checkable
class StreamingTransform(Job, Protocol):
    """A transform whose entry declares the ``streaming`` capability: besides ``run(ctx)`` (drain
    what is there now, then stop) it keeps a long-lived process that the worker's periodic
    ``cryptolake.processing.check_stream`` task restarts when it died.

    ``ensure_running(settings)`` restarts the process when it died (crashed, killed) and returns
    ``True`` when it did; a process stopped on purpose or never started is left alone (``False``).
    """

    def ensure_running(self, settings: Settings | None = None) -> bool: ...


@runtime_checkable
class QualitySuite(Protocol):
    """Implementation of a quality suite entry."""

    def __init__(self, config: BaseModel) -> None: ...

    def run(self, ctx: JobContext) -> Sequence[CheckResult]: ...


def run_job(ctx: JobContext, body: Callable[[JobContext], JobResult]) -> JobResult:
    """Run ``body(ctx)`` between the lifecycle hooks, with the run id bound to the logs."""
    with bind(run_id=ctx.run_id, job=f"{ctx.kind}:{ctx.name}"):
        ctx.host.before_job(job=ctx)
        started = time.perf_counter()
        try:
            result = body(ctx)
        except BaseException as exc:
            ctx.host.on_job_error(job=ctx, error=exc)
            raise
        result.duration_s = time.perf_counter() - started
        ctx.host.after_job(job=ctx, result=result)
        log.info(
            "job %s:%s finished: %d in, %d out, %d rejected in %.1fs",
            ctx.kind, ctx.name, result.rows_in, result.rows_out, result.rejected, result.duration_s,
        )
        return result


__all__ = [
    "CheckResult",
    "Host",
    "Job",
    "JobContext",
    "JobResult",
    "QualitySuite",
    "StreamingTransform",
    "run_job",
]
