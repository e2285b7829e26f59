from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cryptolake.core.errors import QualityGateFailed
from cryptolake.core.jobs import JobContext, JobResult, run_job
from cryptolake.core.logging import bind
from cryptolake.core.manager import PluginHost
from cryptolake.core.pipeline._model import PipelineRun, Step, StepOutcome
from cryptolake.core.pipeline._record import record_run, record_step

log = logging.getLogger(__name__)

Progress = Callable[[int, Step, str], None]
#: (step index, step, done, total or None, message): what a running step reports (``ctx.report``)
StepReport = Callable[[int, Step, int, int | None, str], None]
#: transform engines that run on Trino: their steps wait for it to answer first
TRINO_ENGINES = frozenset({"trino", "dbt"})


def execute_step(
    host: PluginHost, run: PipelineRun, index: int, step: Step, *, record: bool = True,
    report: StepReport | None = None,
) -> StepOutcome:
    """Run one step and record it in ``ops.pipeline_runs``. Raises what the step raised.

    ``report`` receives what the step's job reports while it runs (``ctx.report``)."""
    registry = host.sources if step.kind == "ingest" else host.transforms
    entry = registry.get(step.name)
    started = datetime.now(UTC)
    ctx = JobContext(
        kind=step.kind,
        name=step.name,
        settings=host.settings,
        host=host,
        run_id=run.run_id,
        start=run.start,
        end=run.end,
        params={"pipeline": run.pipeline, "step_index": index},
        progress=(lambda done, total, message: report(index, step, done, total, message))
        if report is not None else None,
    )
    outcome = StepOutcome(step=step, status="failed")
    try:
        if getattr(entry, "engine", None) in TRINO_ENGINES:
            # the stack may still be starting Trino (make demo runs the Spark steps meanwhile)
            from cryptolake.core.clients.trino import wait_until_ready

            waited = wait_until_ready(host.settings,
                                      on_wait=lambda message: ctx.report(0, None, message))
            if waited >= 1:
                log.info("%s: waited %.1fs for Trino to come up", step.label, waited)
        job = entry.load()(entry.configure(step.config))
        result: JobResult = run_job(ctx, job.run)
    except QualityGateFailed as exc:
        outcome.gate, outcome.error = "fail", str(exc)
        if record:
            record_step(host.settings, run, index, outcome, started)
        raise
    except Exception as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
        if record:
            record_step(host.settings, run, index, outcome, started)
        raise
    outcome.status = "succeeded"
    outcome.rows_in, outcome.rows_out, outcome.rejected = (
        result.rows_in, result.rows_out, result.rejected,
    )
    outcome.duration_s = result.duration_s
    outcome.snapshot_ids = dict(result.snapshot_ids)
    outcome.gate = str(result.details.get("gate", "pass" if step.kind == "gate" else "n/a"))
    phases = result.details.get("seconds")
    if isinstance(phases, dict):
        outcome.phases = {str(k): float(v) for k, v in phases.items()}
    if record:
        record_step(host.settings, run, index, outcome, started)
    return outcome


def run_in_process(
    host: PluginHost,
    run: PipelineRun,
    steps: Sequence[Step],
    *,
    progress: Progress | None = None,
    report: StepReport | None = None,
) -> list[StepOutcome]:
    """Run ``steps`` in order in this process. A failure stops the chain: the remaining steps are
    recorded as skipped, the run as failed, and the error is re-raised. ``progress`` hears of
    each step's start and end, ``report`` what a running step reports."""
    started = datetime.now(UTC)
    outcomes: list[StepOutcome] = []
    with bind(run_id=run.run_id, pipeline=run.pipeline):
        for index, step in enumerate(steps):
            if progress:
                progress(index, step, "running")
            try:
                outcomes.append(execute_step(host, run, index, step, report=report))
            except Exception as exc:
                failed_at = index
                for later_index, later in enumerate(steps[failed_at + 1 :], start=failed_at + 1):
                    skipped = StepOutcome(step=later, status="skipped", error=f"after {step.label} failed")
                    record_step(host.settings, run, later_index, skipped, datetime.now(UTC))
                    outcomes.append(skipped)
                record_run(host.settings, run, "failed", started, f"{step.label}: {exc}")
                if progress:
                    progress(index, step, "failed")
                raise
            if progress:
                progress(index, step, "succeeded")
        record_run(host.settings, run, "succeeded", started)
    return outcomes
