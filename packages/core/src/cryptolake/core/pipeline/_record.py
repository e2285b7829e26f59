"""``ops.pipeline_runs``: one row per step run, and one row (step ``*``) per pipeline run."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from cryptolake.core.pipeline._model import PipelineRun, StepOutcome
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table
from cryptolake.core.tables.ops import PIPELINE_RUNS

log = logging.getLogger(__name__)


def _table(settings: Settings) -> Any:
    from cryptolake.core.clients import load_catalog

    return ensure_table(load_catalog(settings), PIPELINE_RUNS)


def _append(settings: Settings, row: dict[str, Any]) -> None:
    import pyarrow as pa

    table = _table(settings)
    schema = PIPELINE_RUNS.arrow_schema()
    table.append(pa.Table.from_pylist([row], schema=schema))


def _base(run: PipelineRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "source": run.source,
        "window_start": run.start,
        "window_end": run.end,
        "via": run.via,
    }


def record_step(
    settings: Settings, run: PipelineRun, index: int, outcome: StepOutcome, started: datetime
) -> None:
    _append(
        settings,
        {
            **_base(run),
            "step": outcome.step.label,
            "step_index": index,
            "status": outcome.status,
            "started_at": started,
            "ended_at": datetime.now(UTC),
            "rows_in": outcome.rows_in,
            "rows_out": outcome.rows_out,
            "rejected": outcome.rejected,
            "snapshot_ids": json.dumps(outcome.snapshot_ids, sort_keys=True),
            "gate": outcome.gate,
            "error": outcome.error,
        },
    )


def record_run(
    settings: Settings, run: PipelineRun, status: str, started: datetime, error: str | None = None
) -> None:
    _append(
        settings,
        {
            **_base(run),
            "step": "*",
            "step_index": -1,
            "status": status,
            "started_at": started,
            "ended_at": datetime.now(UTC),
            "error": error,
        },
    )


def _rows(settings: Settings, expr: Any = None) -> list[dict[str, Any]]:
    table = _table(settings)
    scan = table.scan(row_filter=expr) if expr is not None else table.scan()
    return scan.to_arrow().to_pylist()


def latest_runs(settings: Settings, limit: int = 10) -> list[dict[str, Any]]:
    """The run rows (step ``*``), newest first."""
    from pyiceberg.expressions import EqualTo

    rows = _rows(settings, EqualTo("step", "*"))  # type: ignore[call-arg, misc, arg-type]
    return sorted(rows, key=lambda r: r["started_at"], reverse=True)[:limit]


def steps_of(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    from pyiceberg.expressions import EqualTo

    rows = _rows(settings, EqualTo("run_id", run_id))  # type: ignore[call-arg, misc, arg-type]
    return sorted(rows, key=lambda r: (r["step_index"] if r["step_index"] is not None else 0))


def finished_run(settings: Settings, run: PipelineRun) -> dict[str, Any] | None:
    """A succeeded run of the same pipeline, source and window, if there is one."""
    for row in latest_runs(settings, limit=1000):
        if (
            row["pipeline"] == run.pipeline
            and row["source"] == run.source
            and row["status"] == "succeeded"
            and row["window_start"] == run.start
            and row["window_end"] == run.end
        ):
            return row
    return None
