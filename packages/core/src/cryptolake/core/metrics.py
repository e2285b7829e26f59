"""Prometheus metrics of CryptoLake's long-running processes (the Celery worker and beat).

Install with the ``metrics`` extra (``cryptolake-core[metrics]``, part of ``[worker]``).

What is measured comes from the lifecycle hooks, so every job — built-in or a third party's —
is counted the same way, by an ordinary plugin (:class:`JobMetrics`) the worker registers:

=============================================  ==========================================
series                                         labels
=============================================  ==========================================
``cryptolake_jobs_total``                      kind (ingest/transform/gate), name, outcome
``cryptolake_job_duration_seconds``            kind, name (histogram, successful jobs)
``cryptolake_job_records_in_total``            kind, name
``cryptolake_job_records_out_total``           kind, name
``cryptolake_job_records_rejected_total``      kind, name
``cryptolake_batch_rows_total``                table, source (rows committed to Iceberg)
``cryptolake_quality_gate_failures_total``     layer
``cryptolake_quality_gates_total``             layer, outcome (passed/failed: every gate run)
``cryptolake_quality_checks_total``            layer, outcome (every check of every gate)
``cryptolake_beat_tasks_sent_total``           task (beat only: schedules fired)
=============================================  ==========================================

The worker is a prefork pool: jobs run in child processes. Counters are therefore kept in
Prometheus' multiprocess mode — each process writes its values to files under
``PROMETHEUS_MULTIPROC_DIR`` (``$CRYPTOLAKE_HOME/data/metrics/<service>-<pid>``, fresh for each
start) and the parent serves their sum on ``/metrics``
(``CRYPTOLAKE_JOBS__WORKER_METRICS_PORT``, ``CRYPTOLAKE_JOBS__BEAT_METRICS_PORT``; 0 turns
the endpoint off). :func:`prepare_multiprocess` must run before ``prometheus_client`` is
imported in that process tree: ``cryptolake worker`` and ``cryptolake beat`` call it first.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptolake.core._version import __version__
from cryptolake.core.markers import hookimpl
from cryptolake.core.registry import PluginManifest

if TYPE_CHECKING:
    from cryptolake.core.jobs import JobContext
    from cryptolake.core.results import CheckResult, JobResult

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess(root: Path, service: str) -> Path:
    """Give this process tree an empty multiprocess directory ``root/<service>-<pid>``.

    Directories of earlier processes that no longer run are removed. Must run before
    ``prometheus_client`` is imported; children inherit the setting through the environment.
    """
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(f"{service}-*"):
        pid = old.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    directory = root / f"{service}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    os.environ[ENV] = str(directory)
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(port: int, host: str = "127.0.0.1") -> int:
    """Serve ``/metrics`` (the sum over every process of the tree) on ``host:port``; the port bound.

    ``port`` 0 means "no endpoint" and returns 0.
    """
    if not port:
        return 0
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:  # a single process: its own default registry
        from prometheus_client import REGISTRY

        registry = REGISTRY
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # another worker of this machine holds the port: work on, unmeasured
        log.warning("metrics endpoint not started: %s:%d: %s (set the port setting to another "
                    "port, or 0)", host, port, exc)
        return 0
    bound = int(server.server_port)
    log.info("metrics on http://%s:%d/metrics", host, bound)
    return bound


class _Series:
    """The metric objects, created once per process on first use."""

    _made: _Series | None = None

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.jobs = Counter("cryptolake_jobs", "Jobs run, by outcome", ["kind", "name", "outcome"])
        self.duration = Histogram(
            "cryptolake_job_duration_seconds", "Wall time of successful jobs", ["kind", "name"],
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
        )
        self.rows_in = Counter("cryptolake_job_records_in", "Records read by jobs", ["kind", "name"])
        self.rows_out = Counter("cryptolake_job_records_out", "Rows written by jobs", ["kind", "name"])
        self.rejected = Counter(
            "cryptolake_job_records_rejected", "Records sent to a rejects table", ["kind", "name"]
        )
        self.batch_rows = Counter(
            "cryptolake_batch_rows", "Rows committed to Iceberg per table", ["table", "source"]
        )
        self.gate_failures = Counter(
            "cryptolake_quality_gate_failures", "Quality gates that failed", ["layer"]
        )
        self.gates = Counter(
            "cryptolake_quality_gates", "Quality gates run, by outcome", ["layer", "outcome"]
        )
        self.checks = Counter(
            "cryptolake_quality_checks", "Quality checks run, by outcome", ["layer", "outcome"]
        )
        self.beat_sent = Counter("cryptolake_beat_tasks_sent", "Tasks sent by beat", ["task"])

    @classmethod
    def get(cls) -> _Series:
        if cls._made is None:
            cls._made = cls()
        return cls._made


class JobMetrics:
    """A plugin that counts every job, batch and failed gate through the lifecycle hooks."""

    CRYPTOLAKE_PLUGIN = PluginManifest(
        "cryptolake.metrics", __version__, description="Prometheus metrics of every job"
    )

    @hookimpl
    def cryptolake_after_job(self, job: JobContext, result: JobResult) -> None:
        m = _Series.get()
        m.jobs.labels(job.kind, job.name, "succeeded").inc()
        m.duration.labels(job.kind, job.name).observe(result.duration_s)
        m.rows_in.labels(job.kind, job.name).inc(max(result.rows_in, 0))
        m.rows_out.labels(job.kind, job.name).inc(max(result.rows_out, 0))
        m.rejected.labels(job.kind, job.name).inc(max(result.rejected, 0))
        if job.kind == "gate":  # a gate that returned passed: each of its checks passed
            layer = str(result.details.get("layer") or job.name.rpartition(".")[2])
            m.gates.labels(layer, "passed").inc()
            checks = result.details.get("checks")
            if isinstance(checks, int) and checks > 0:
                m.checks.labels(layer, "pass").inc(checks)

    @hookimpl
    def cryptolake_on_job_error(self, job: JobContext, error: BaseException) -> None:
        _Series.get().jobs.labels(job.kind, job.name, "failed").inc()

    @hookimpl
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        _Series.get().batch_rows.labels(table, source).inc(max(rows, 0))

    @hookimpl
    def cryptolake_quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None:
        m = _Series.get()
        m.gate_failures.labels(layer).inc()
        m.gates.labels(layer, "failed").inc()
        for r in results:
            m.checks.labels(layer, r.outcome).inc()


def count_beat_send(sender: Any = None, **_: Any) -> None:
    """``before_task_publish`` receiver in beat: one more task of ``sender`` sent."""
    _Series.get().beat_sent.labels(str(sender or "?")).inc()


__all__ = ["JobMetrics", "count_beat_send", "prepare_multiprocess", "serve"]
