"""``ops.pipeline_runs``: one row per step run, and one row (step ``*``) per pipeline run.

A step that is retried (a Celery redelivery, a rerun after a failure) is recorded again under
the same run and step: :func:`record_step` replaces the earlier row in the same Iceberg commit
(an overwrite filtered on ``run_id`` and ``step``), so the table holds **one row per (run, step)**
and the latest state wins. Readers still collapse duplicates deterministically
(:func:`latest_per_step`) so that rows written before this rule, or by two writers racing, never
make the answer depend on scan order.
"""

from __future__ import annotations

import json
import logging
import warnings
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


def _upsert(settings: Settings, row: dict[str, Any]) -> None:
    """Write ``row`` as the only row of its (run, step): delete + append in one commit."""
    import pyarrow as pa
    from pyiceberg.expressions import And, EqualTo

    from cryptolake.core.clients.catalog import transaction

    table = _table(settings)
    schema = PIPELINE_RUNS.arrow_schema()
    data = pa.Table.from_pylist([row], schema=schema)
    same = And(EqualTo("run_id", row["run_id"]), EqualTo("step", row["step"]))  # type: ignore[call-arg, misc, arg-type]
    with warnings.catch_warnings():  # the first write of a step matches nothing to delete
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        with transaction(table) as tx:
            tx.overwrite(data, overwrite_filter=same)


#: When two rows of one (run, step) have the same end time, the more final status wins.
_STATUS_RANK = {"skipped": 0, "running": 1, "failed": 2, "succeeded": 3}


def _recency(row: dict[str, Any]) -> tuple[Any, ...]:
    floor = datetime.min.replace(tzinfo=UTC)
    return (
        row.get("ended_at") or floor,
        row.get("started_at") or floor,
        _STATUS_RANK.get(str(row.get("status")), -1),
        str(row.get("status")),
        str(row.get("error") or ""),
    )


def latest_per_step(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (run, step): the one that ended last (ties: the more final status)."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["run_id"], row["step"])
        if key not in best or _recency(row) > _recency(best[key]):
            best[key] = row
    return list(best.values())


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
    _upsert(
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
    _upsert(
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

    rows = latest_per_step(_rows(settings, EqualTo("step", "*")))  # type: ignore[call-arg, misc, arg-type]
    return sorted(rows, key=lambda r: (r["started_at"], r["run_id"]), reverse=True)[:limit]


def steps_of(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    from pyiceberg.expressions import EqualTo

    rows = latest_per_step(_rows(settings, EqualTo("run_id", run_id)))  # type: ignore[call-arg, misc, arg-type]
    return sorted(
        rows, key=lambda r: (r["step_index"] if r["step_index"] is not None else 0, r["step"])
    )


def finished_run(settings: Settings, run: PipelineRun) -> dict[str, Any] | None:
    """A succeeded run of the same pipeline, source and window, if there is one.

    A live run with an open bound (no ``--from`` or no ``--to``, e.g. the daily ``pipeline run
    --source live``) means "up to now", which is new data every time, so it is never finished.
    A replay reads fixed recorded files: an undated replay that succeeded is finished (the
    caller forces a run over another directory, ``--data``).
    """
    if (run.start is None or run.end is None) and run.source != "replay":
        return None
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
