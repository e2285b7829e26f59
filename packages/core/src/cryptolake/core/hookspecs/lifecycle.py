"""Lifecycle hooks: notifications around jobs, commits, quality gates and model promotions.

None of them stops early: every implementation is called and results are ignored. An exception in
a lifecycle hook is logged with the plugin's name and does not fail the job (the host calls each
implementation apart, in strict mode too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.jobs import JobContext
    from cryptolake.core.results import CheckResult, JobResult


class LifecycleSpecs:
    @hookspec
    def cryptolake_before_job(self, job: JobContext) -> None:
        """Called before a job (ingest, transform, quality gate, training) starts.

        .. versionadded:: 0.1
        """

    @hookspec
    def cryptolake_after_job(self, job: JobContext, result: JobResult) -> None:
        """Called after a job finished successfully, with its result.

        .. versionadded:: 0.1
        """

    @hookspec
    def cryptolake_on_job_error(self, job: JobContext, error: BaseException) -> None:
        """Called when a job raised; the error is re-raised after every plugin was told.

        .. versionadded:: 0.1
        """

    @hookspec
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        """Called after a batch of ``rows`` rows was committed to Iceberg ``table``.

        ``snapshot_id`` is the new Iceberg snapshot (``None`` when nothing was written) and
        ``source`` the plugin or job that wrote it.

        .. versionadded:: 0.1
        """

    @hookspec
    def cryptolake_quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None:
        """Called when the quality gate of ``layer`` failed; ``results`` holds every check run.

        .. versionadded:: 0.1
        """

    @hookspec
    def cryptolake_model_promoted(
        self, model: str, version: str, metrics: dict[str, float]
    ) -> None:
        """Called when ``model`` at ``version`` became the champion, with its evaluation metrics.

        .. versionadded:: 0.1
        """
