"""The ML jobs as transform entries (layer ``ml``): what the Celery tasks and the CLI run.

``ml.retrain`` (task ``cryptolake.ml.retrain_models``), ``ml.predict`` (``cryptolake.ml.predict``)
and ``ml.score`` (``cryptolake.ml.score``) are ordinary jobs: run through the pipeline runner they
land in ``ops.pipeline_runs`` like every other step.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from cryptolake.core.jobs import JobContext, JobResult


class MLJobConfig(BaseModel):
    symbols: list[str] | None = Field(None, description="symbols to use (default: all in Gold)")
    fast: bool = Field(False, description="small, fast settings (demo, tests)")
    gold_namespace: str = Field("gold", description="namespace of the Gold tables read")
    ml_namespace: str = Field("ml", description="namespace of the ml.* tables written")
    models: list[str] | None = Field(None, description="models to train (default: all registered)")
    horizons: list[int] = Field(default_factory=lambda: [1, 24])
    if_changed: bool = Field(
        False, description="predict: skip when every serving model already predicted on the "
        "Gold snapshot published now")


class _MLJob:
    def __init__(self, config: BaseModel) -> None:
        self.config = MLJobConfig.model_validate(config.model_dump())


class RetrainJob(_MLJob):
    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.ml.training import TrainOptions, train_and_register

        c = self.config
        opts = TrainOptions(symbols=c.symbols, fast=c.fast, horizons=tuple(c.horizons),
                            gold_namespace=c.gold_namespace, ml_namespace=c.ml_namespace,
                            models=c.models)
        host: Any = ctx.host  # the plugin host (hook calls, model registry)
        summary = train_and_register(host, opts, progress=lambda m: ctx.report(0, None, m))
        snaps: dict[str, int | None] = dict(summary.snapshot.snapshot_ids)
        return JobResult(
            rows_in=sum(r.metrics.n for r in summary.rows if r.symbol == "ALL"
                        and r.period == "walk_forward" and r.model_name == "always_up"),
            rows_out=len(summary.models),
            snapshot_ids=snaps,
            details={"models": [m["model_id"] for m in summary.models],
                     "promoted": summary.promoted, "reasons": summary.reasons[:50],
                     "states": json.dumps({m["model_id"]: m["state"] for m in summary.models})},
        )


class PredictJob(_MLJob):
    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.ml.serving import PredictOptions, predict

        c = self.config
        rows = predict(ctx.settings, PredictOptions(c.gold_namespace, c.ml_namespace, c.symbols,
                                                    if_changed=c.if_changed))
        return JobResult(rows_out=len(rows), details={"predictions": len(rows)})


class ScoreJob(_MLJob):
    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.ml.serving import PredictOptions, score

        c = self.config
        rows = score(ctx.settings, PredictOptions(c.gold_namespace, c.ml_namespace, c.symbols))
        return JobResult(rows_out=len(rows), details={"scored": len(rows)})


def run_ml_step(host: Any, name: str, config: dict[str, Any], *, run_id: str | None = None,
                via: str = "in-process") -> tuple[str, Any]:
    """Run one ML job as a one-step pipeline ``name`` recorded in ops.pipeline_runs."""
    from cryptolake.core.pipeline import PipelineRun, Step, run_in_process

    run = PipelineRun(pipeline=name, source="n/a", start=None, end=None, via=via)
    if run_id:
        run.run_id = run_id
    outcomes = run_in_process(host, run, [Step("transform", name, config, heavy=name == "ml.retrain")])
    return run.run_id, outcomes[0]
