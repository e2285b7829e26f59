"""Progress of a Spark job, from Spark's own status tracker, for ``JobContext.report``.

While a step's Spark work runs, a daemon thread asks the session's ``StatusTracker`` every
``every`` seconds for the Spark jobs started since the step began and their stages, and reports
``(tasks done, tasks known so far, message)``; the message names the running stage and the
Spark jobs done. The total grows as Spark plans new stages: it counts what is known, it does not
guess. Nothing is reported when the context has no progress callback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cryptolake.core import JobContext

log = logging.getLogger(__name__)


def _snapshot(tracker: Any, since_job: int) -> tuple[int, int, int, int, str]:
    """(tasks done, tasks known, jobs done, jobs seen, running stage's name) of the jobs with
    an id above ``since_job``."""
    done = total = jobs_done = jobs = 0
    running = ""
    for job_id in sorted(tracker.getJobIdsForGroup(None) or []):
        if job_id <= since_job:
            continue
        info = tracker.getJobInfo(job_id)
        if info is None:
            continue
        jobs += 1
        if str(info.status) == "SUCCEEDED":
            jobs_done += 1
        for stage_id in info.stageIds:
            stage = tracker.getStageInfo(stage_id)
            if stage is None:
                continue
            total += int(stage.numTasks)
            done += int(stage.numCompletedTasks)
            if stage.numActiveTasks and not running:
                running = str(stage.name).split(" at ")[0][:40]
    return done, total, jobs_done, jobs, running


def _last_job(tracker: Any) -> int:
    ids = tracker.getJobIdsForGroup(None) or []
    return max(ids) if ids else -1


@contextmanager
def spark_progress(session: SparkSession, ctx: JobContext, every: float = 1.0,
                   label: str = "") -> Iterator[None]:
    """Report the Spark work done inside the ``with`` block through ``ctx.report``."""
    if ctx.progress is None:
        yield
        return
    tracker = session.sparkContext.statusTracker()
    try:
        since = _last_job(tracker)
    except Exception:  # no tracker (Spark Connect): the step runs unreported
        yield
        return
    stop = threading.Event()
    prefix = f"{label}: " if label else ""

    def poll() -> None:
        last: tuple[int, int, int, int, str] | None = None
        while not stop.wait(every):
            try:
                now = _snapshot(tracker, since)
            except Exception:
                log.debug("spark progress: status tracker failed", exc_info=True)
                continue
            if now != last and now[1]:
                done, total, jobs_done, jobs, running = now
                stage = f", running {running}" if running else ""
                ctx.report(done, total, f"{prefix}Spark tasks {done:,}/{total:,} "
                           f"({jobs_done}/{jobs} jobs{stage})")
                last = now

    thread = threading.Thread(target=poll, name=f"spark-progress-{ctx.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
