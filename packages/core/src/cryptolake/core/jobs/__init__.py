"""What a job is: its context, its result, and the protocols family implementations follow.

:func:`run_job` wraps every job — ingest, transform, quality gate, training — with the lifecycle
hooks (before / after / on-error) and carries the run id into the logs.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from cryptolake.core.logging import bind

if TYPE_CHECKING:
    from cryptolake.core.manager import PluginHost
    from cryptolake.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """Everything a running job may use: the settings, the plugin host, a run id, its window."""

    kind: str
    name: str
    settings: Settings
    host: PluginHost
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    start: datetime | None = None
    end: datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Called with (done, total, message) by jobs that can report progress.
    progress: Callable[[int, int | None, str], None] | None = None

    def report(self, done: int, total: int | None = None, message: str = "") -> None:
        if self.progress is not None:
            self.progress(done, total, message)

    def committed(self, table: str, snapshot_id: int | None, rows: int) -> None:
        """Announce a commit to Iceberg ``table`` to every plugin."""
        self.host.hook.cryptolake_batch_committed(
            table=table, snapshot_id=snapshot_id, rows=rows, source=self.name
        )


@dataclass
class JobResult:
    """What a job did, in figures a summary table can show."""

    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    snapshot_ids: dict[str, int | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def merge(self, other: JobResult) -> JobResult:
        return JobResult(
            rows_in=self.rows_in + other.rows_in,
            rows_out=self.rows_out + other.rows_out,
            rejected=self.rejected + other.rejected,
            snapshot_ids={**self.snapshot_ids, **other.snapshot_ids},
            details={**self.details, **other.details},
            duration_s=self.duration_s + other.duration_s,
        )


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one quality check on one table."""

    check: str
    table: str
    outcome: str  # "pass" | "warn" | "fail" | "error"
    value: float | None = None
    snapshot_id: int | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in ("fail", "error")


@runtime_checkable
class Job(Protocol):
    """Implementation of a source or transform entry: built from its config, then run."""

    def __init__(self, config: BaseModel) -> None: ...

    def run(self, ctx: JobContext) -> JobResult: ...


@runtime_checkable
class QualitySuite(Protocol):
    """Implementation of a quality suite entry."""

    def __init__(self, config: BaseModel) -> None: ...

    def run(self, ctx: JobContext) -> Sequence[CheckResult]: ...


def run_job(ctx: JobContext, body: Callable[[JobContext], JobResult]) -> JobResult:
    """Run ``body(ctx)`` between the lifecycle hooks, with the run id bound to the logs."""
    with bind(run_id=ctx.run_id, job=f"{ctx.kind}:{ctx.name}"):
        ctx.host.notify("cryptolake_before_job", job=ctx)
        started = time.perf_counter()
        try:
            result = body(ctx)
        except BaseException as exc:
            ctx.host.notify("cryptolake_on_job_error", job=ctx, error=exc)
            raise
        result.duration_s = time.perf_counter() - started
        ctx.host.notify("cryptolake_after_job", job=ctx, result=result)
        log.info(
            "job %s:%s finished: %d in, %d out, %d rejected in %.1fs",
            ctx.kind, ctx.name, result.rows_in, result.rows_out, result.rejected, result.duration_s,
        )
        return result


