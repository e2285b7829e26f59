"""``ops.pipeline_runs`` bookkeeping on a real Iceberg table (a private SQLite catalog)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core.pipeline import (
    PipelineRun,
    Step,
    StepOutcome,
    _record,
    finished_run,
    latest_per_step,
    latest_runs,
    record_run,
    record_step,
    steps_of,
)
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table
from cryptolake.core.tables.ops import PIPELINE_RUNS


@pytest.fixture
def runs_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "test", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/warehouse"
    )
    table = ensure_table(catalog, PIPELINE_RUNS)
    monkeypatch.setattr(_record, "_table", lambda settings: catalog.load_table("ops.pipeline_runs"))
    return table


def _settings() -> Settings:
    return Settings()


def test_an_undated_live_run_is_never_finished(runs_table: Any) -> None:
    s = _settings()
    live = PipelineRun("daily", "live", None, None)
    record_run(s, live, "succeeded", datetime.now(UTC))
    # yesterday's undated live run succeeded; today's undated run still has new data to fetch
    assert finished_run(s, PipelineRun("daily", "live", None, None)) is None
    half_open = PipelineRun("daily", "live", datetime(2024, 1, 1, tzinfo=UTC), None)
    record_run(s, half_open, "succeeded", datetime.now(UTC))
    assert finished_run(s, PipelineRun("daily", "live", half_open.start, None)) is None
    # a closed window that succeeded is finished
    day = PipelineRun("daily", "replay", datetime(2024, 1, 1, tzinfo=UTC),
                      datetime(2024, 1, 2, tzinfo=UTC))
    record_run(s, day, "succeeded", datetime.now(UTC))
    done = finished_run(s, PipelineRun("daily", "replay", day.start, day.end))
    assert done is not None and done["run_id"] == day.run_id
    # the recorded files do not change: an undated replay that succeeded is finished
    assert finished_run(s, PipelineRun("daily", "replay", None, None)) is None
    replay = PipelineRun("daily", "replay", None, None)
    record_run(s, replay, "succeeded", datetime.now(UTC))
    again = finished_run(s, PipelineRun("daily", "replay", None, None))
    assert again is not None and again["run_id"] == replay.run_id


def test_a_retried_step_leaves_one_row_and_the_latest_state_wins(runs_table: Any) -> None:
    s = _settings()
    run = PipelineRun("daily", "replay", None, None)
    step = Step("transform", "silver.trades")
    t0 = datetime.now(UTC)
    record_step(s, run, 0, StepOutcome(step, "failed", error="TransientError: boom"), t0)
    record_step(s, run, 0, StepOutcome(step, "succeeded", rows_out=7), t0 + timedelta(seconds=1))
    rows = steps_of(s, run.run_id)
    assert [(r["step"], r["status"], r["rows_out"]) for r in rows] == [
        ("transform:silver.trades", "succeeded", 7)
    ]
    stored = runs_table.refresh().scan().to_arrow().to_pylist()
    assert len(stored) == 1  # replaced in the table, not only hidden by the reader
    record_run(s, run, "failed", t0)
    record_run(s, run, "succeeded", t0)
    assert [r["status"] for r in latest_runs(s)] == ["succeeded"]


def test_duplicates_collapse_deterministically_whatever_the_scan_order() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    failed = {"run_id": "r", "step": "x", "status": "failed", "started_at": t,
              "ended_at": t + timedelta(seconds=5), "error": "boom"}
    succeeded = {"run_id": "r", "step": "x", "status": "succeeded", "started_at": t,
                 "ended_at": t + timedelta(seconds=9), "error": None}
    assert latest_per_step([failed, succeeded]) == [succeeded]
    assert latest_per_step([succeeded, failed]) == [succeeded]
    tie = {**failed, "ended_at": succeeded["ended_at"]}
    assert latest_per_step([succeeded, tie]) == latest_per_step([tie, succeeded]) == [succeeded]
