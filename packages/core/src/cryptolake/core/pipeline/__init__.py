"""Pipelines: ordered steps built from the registries, run in-process or on Celery workers.

The daily pipeline is

    sources → Bronze  →  Silver transforms  →  Silver gate  →  Gold transforms (dbt)  →  Gold gate

where every step is a registry entry: sources (``replay.recorded`` for ``--source replay``, every
``batch`` source for ``--source live``), transforms of the ``silver`` then ``gold`` layer in
dependency order (a transform runs after those producing its inputs), and the gate of a layer —
the transform named ``gate.<layer>`` — when one is registered. A failed gate stops the chain; the
steps after it are recorded as ``skipped``. Every step lands in ``ops.pipeline_runs``.
"""

from __future__ import annotations

from cryptolake.core.pipeline._model import PipelineRun, Step, StepOutcome
from cryptolake.core.pipeline._plan import daily_pipeline, maintenance_pipeline, order_transforms
from cryptolake.core.pipeline._publish import (
    Publication,
    Restored,
    current_properties,
    current_snapshots,
    latest_publication,
    publish_layer,
    restore_published,
)
from cryptolake.core.pipeline._record import (
    finished_run,
    latest_per_step,
    latest_runs,
    record_run,
    record_step,
    steps_of,
)
from cryptolake.core.pipeline._run import execute_step, run_in_process

__all__ = [
    "PipelineRun",
    "Publication",
    "Restored",
    "Step",
    "StepOutcome",
    "current_properties",
    "current_snapshots",
    "daily_pipeline",
    "execute_step",
    "finished_run",
    "latest_per_step",
    "latest_publication",
    "latest_runs",
    "maintenance_pipeline",
    "order_transforms",
    "publish_layer",
    "record_run",
    "record_step",
    "restore_published",
    "run_in_process",
    "steps_of",
]
