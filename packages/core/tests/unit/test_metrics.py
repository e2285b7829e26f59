"""Job metrics: counted through the lifecycle hooks, summed over the worker's prefork processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client")

SCRIPT = textwrap.dedent(
    """
    import os, sys, urllib.request
    from pathlib import Path
    from cryptolake.core import metrics                       # before prometheus_client is imported
    metrics.prepare_multiprocess(Path(sys.argv[1]), "worker")
    from cryptolake.core import CheckResult, JobContext, JobResult, run_job
    from cryptolake.core.manager import build_plugin_manager
    from cryptolake.core.settings import Settings

    host = build_plugin_manager(Settings(), autoload=False, plugins=[metrics.JobMetrics()])

    def job(name, rows, fail=False):
        def body(ctx):
            ctx.committed("bronze.demo", 7, rows)
            if fail:
                raise RuntimeError("boom")
            return JobResult(rows_in=rows, rows_out=rows - 1, rejected=1)
        try:
            run_job(JobContext(kind="ingest", name=name, settings=host.settings, host=host), body)
        except RuntimeError:
            pass

    pid = os.fork()                  # a pool child, as in the Celery worker
    if pid == 0:
        job("demo.ticks", 10)
        os._exit(0)
    os.waitpid(pid, 0)
    job("demo.ticks", 5)
    job("demo.broken", 3, fail=True)
    run_job(JobContext(kind="gate", name="gate.gold", settings=host.settings, host=host),
            lambda ctx: JobResult(rows_in=4, details={"gate": "pass", "checks": 4}))
    host.quality_gate_failed(layer="silver", results=[CheckResult("rows", "silver.t", "fail"),
                                                      CheckResult("fresh", "silver.t", "pass")])
    port = metrics.serve(int(sys.argv[2]))
    print(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode())
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _value(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{series} not in the scrape:\n{text}")


def test_jobs_are_counted_across_processes(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "metrics"), str(_free_port())],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    ok = 'kind="ingest",name="demo.ticks"'
    # the parent's job and the forked child's are summed
    assert _value(text, f'cryptolake_jobs_total{{{ok},outcome="succeeded"}}') == 2
    assert _value(text, f"cryptolake_job_records_in_total{{{ok}}}") == 15
    assert _value(text, f"cryptolake_job_records_out_total{{{ok}}}") == 13
    assert _value(text, f"cryptolake_job_records_rejected_total{{{ok}}}") == 2
    assert _value(text, f"cryptolake_job_duration_seconds_count{{{ok}}}") == 2
    assert _value(text, 'cryptolake_jobs_total{kind="ingest",name="demo.broken",outcome="failed"}') == 1
    assert _value(text, 'cryptolake_batch_rows_total{source="demo.ticks",table="bronze.demo"}') == 15
    assert _value(text, 'cryptolake_quality_gate_failures_total{layer="silver"}') == 1
    assert _value(text, 'cryptolake_quality_checks_total{layer="silver",outcome="fail"}') == 1
    assert _value(text, 'cryptolake_quality_gates_total{layer="silver",outcome="failed"}') == 1
    # a gate that passed: counted with each of its checks
    assert _value(text, 'cryptolake_quality_gates_total{layer="gold",outcome="passed"}') == 1
    assert _value(text, 'cryptolake_quality_checks_total{layer="gold",outcome="pass"}') == 4


def test_a_taken_port_leaves_the_process_running(tmp_path: Path) -> None:
    from cryptolake.core import metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert metrics.serve(int(s.getsockname()[1])) == 0
    assert metrics.serve(0) == 0


def test_directories_of_dead_processes_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core import metrics

    monkeypatch.setenv(metrics.ENV, "")  # restored (unset) after the test
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / f"worker-{dead}").mkdir()
    (tmp_path / "beat-1").mkdir()  # pid 1 is alive: another service's directory stays
    mine = metrics.prepare_multiprocess(tmp_path, "worker")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "beat-1"])
    assert os.environ[metrics.ENV] == str(mine)
