"""Spark and dbt steps report progress through ``ctx.report`` (their bars move)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from cryptolake.processing.dbt.runner import _progress_callback
from cryptolake.processing.spark._progress import _snapshot, spark_progress


class FakeTracker:
    """Spark's StatusTracker: jobs with their stages, as the step's Spark work advances."""

    def __init__(self) -> None:
        self.jobs: dict[int, tuple[str, list[int]]] = {0: ("SUCCEEDED", [0])}  # before the step
        self.stages: dict[int, tuple[str, int, int, int]] = {0: ("old", 9, 0, 9)}

    def getJobIdsForGroup(self, group: Any = None) -> list[int]:  # - Spark's API
        return list(self.jobs)

    def getJobInfo(self, job_id: int) -> Any:
        status, stages = self.jobs[job_id]
        return SimpleNamespace(jobId=job_id, stageIds=stages, status=status)

    def getStageInfo(self, stage_id: int) -> Any:
        name, tasks, active, done = self.stages[stage_id]
        return SimpleNamespace(stageId=stage_id, name=name, numTasks=tasks,
                               numActiveTasks=active, numCompletedTasks=done)


def test_spark_tasks_of_the_steps_own_jobs_are_reported() -> None:
    tracker = FakeTracker()
    reports: list[tuple[int, int | None, str]] = []
    ctx = SimpleNamespace(name="silver.ohlcv_1h", progress=lambda *a: reports.append(a),
                          report=lambda *a: reports.append(a))
    session = SimpleNamespace(sparkContext=SimpleNamespace(statusTracker=lambda: tracker))
    with spark_progress(session, ctx, every=0.01):  # type: ignore[arg-type]
        tracker.jobs[1] = ("RUNNING", [1, 2])
        tracker.stages[1] = ("count at NativeMethodAccessorImpl.java:0", 4, 0, 4)
        tracker.stages[2] = ("MERGE INTO lakehouse.silver.ohlcv_1h at x.java:1", 6, 2, 1)
        deadline = time.monotonic() + 10
        while not reports and time.monotonic() < deadline:
            time.sleep(0.02)
        tracker.jobs[1] = ("SUCCEEDED", [1, 2])
        tracker.stages[2] = ("MERGE INTO lakehouse.silver.ohlcv_1h at x.java:1", 6, 0, 6)
        while reports[-1][0] != 10 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert reports[0] == (5, 10, "Spark tasks 5/10 (0/1 jobs, running MERGE INTO "
                                 "lakehouse.silver.ohlcv_1h)")
    assert reports[-1] == (10, 10, "Spark tasks 10/10 (1/1 jobs)")
    assert _snapshot(tracker, -1)[:4] == (19, 19, 2, 2)  # the job before the step counts only
    # when asked for from the start


def test_no_progress_callback_no_thread() -> None:
    ctx = SimpleNamespace(name="x", progress=None)
    with spark_progress(SimpleNamespace(), ctx):  # type: ignore[arg-type]
        pass  # the session is never touched


def _event(event_name: str, **data: Any) -> Any:
    return SimpleNamespace(info=SimpleNamespace(name=event_name), data=SimpleNamespace(**data))


def test_dbt_result_events_report_node_by_node() -> None:
    reports: list[tuple[int, int | None, str]] = []
    cb = _progress_callback("run", lambda *a: reports.append(a))
    cb(_event("LogStartLine", index=1, total=3, description="sql table model gold.x"))
    cb(_event("LogModelResult", index=1, total=3, status="success",
              node_info=SimpleNamespace(node_name="fact_price_hourly")))
    cb(_event("LogTestResult", index=2, total=3, status="pass", name="unique_x",
              node_info=SimpleNamespace(node_name="")))
    cb(SimpleNamespace())  # an event without the expected shape is ignored, never raised
    assert reports == [(1, 3, "dbt run: fact_price_hourly success"),
                       (2, 3, "dbt run: unique_x pass")]
