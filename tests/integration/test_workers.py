"""Orchestration on real Redis, Celery workers, Iceberg (PostgreSQL + S3) — with the probe plugin.

The built-in plugins are blocked in these workers, so the daily pipeline consists of the probe's
four small steps (tests/thirdparty/cryptolake-pipeline-probe): ingest → silver → silver gate →
gold. Each test holds its own pair of Redis databases (broker, results) — locked against every
other test run on this machine, flushed before and after — and its own Iceberg namespace. Waits
are progress conditions with a deadline (:func:`wait_for`), never a sleep followed by an assert.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.installed]

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "thirdparty" / "cryptolake-pipeline-probe"


def _uv() -> str:
    return str(get_settings().home / "tools" / "uv" / "bin" / "uv")


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("probe-site")
    subprocess.run(
        [_uv(), "pip", "install", "-q", "--no-deps", "--target", str(target), str(PROBE)],
        check=True,
    )
    return target


#: Redis databases these tests may take, in pairs (broker, results); 0-3 belong to the stack and
#: the API (Celery 0/1, API cache 2).
REDIS_PAIRS = [(db, db + 1) for db in range(4, 16, 2)]


def wait_for(condition: Callable[[], Any], what: str, timeout: float, every: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def _flush(db: int) -> None:
    import redis

    client = redis.Redis.from_url(get_settings().redis_url(db))
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def redis_dbs(lakehouse_stack: Any) -> Iterator[tuple[int, int]]:
    """A pair of Redis databases no other test uses meanwhile (a lock file per pair, shared by
    every pytest process on this machine), flushed before the test and after it."""
    locks = get_settings().home / "run" / "test-redis-dbs"
    locks.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + 600
    while True:
        for pair in REDIS_PAIRS:
            handle = open(locks / f"db{pair[0]}.lock", "w")  # noqa: SIM115 - held for the test
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                for db in pair:
                    _flush(db)
                yield pair
                for db in pair:
                    _flush(db)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if time.monotonic() > deadline:
            pytest.fail("no free pair of Redis databases for 10 minutes")
        time.sleep(1)


def test_each_test_gets_its_own_flushed_redis_databases(redis_dbs: tuple[int, int]) -> None:
    import redis

    broker, results = redis_dbs
    assert broker != results and {broker, results}.isdisjoint({0, 1, 2, 3})
    client = redis.Redis.from_url(get_settings().redis_url(broker))
    try:
        assert client.dbsize() == 0
        client.set("cryptolake-test", "1")
    finally:
        client.close()
    # another holder cannot take the same pair while this test holds it
    lock = get_settings().home / "run" / "test-redis-dbs" / f"db{broker}.lock"
    with open(lock, "w") as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.fixture
def env(
    lakehouse_stack: Any,
    lakehouse_namespace: str,
    probe_site: Path,
    tmp_path: Path,
    redis_dbs: tuple[int, int],
) -> dict[str, str]:
    builtins = json.loads(
        subprocess.run(
            [sys.executable, "-m", "cryptolake.core.cli", "plugins", "list", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    broker, results = redis_dbs
    return {
        **os.environ,
        "PYTHONPATH": str(probe_site),
        "CRYPTOLAKE_PLUGINS__DISABLED": json.dumps(sorted(p["name"] for p in builtins)),
        "CRYPTOLAKE_JOBS__BROKER_DB": str(broker),
        "CRYPTOLAKE_JOBS__RESULT_DB": str(results),
        "CRYPTOLAKE_JOBS__VISIBILITY_TIMEOUT_S": "20",
        "CRYPTOLAKE_LOG__FORMAT": "text",
        "PROBE_NAMESPACE": lakehouse_namespace,
        "PROBE_MARKER": str(tmp_path / "double.started"),
    }


Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Start]:
    procs: list[subprocess.Popen[str]] = []

    def start(args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[str]:
        log = open(tmp_path / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "cryptolake.core.cli", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _worker(start: Start, env: dict[str, str], name: str = "w1") -> subprocess.Popen[str]:
    return start(["worker", "-c", "1", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h"], env, name)


def _pipeline(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cryptolake.core.cli",
            "pipeline",
            "run",
            "--source",
            "replay",
            "--via-workers",
            "--force",
            "--timeout",
            str(timeout),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 60,
        check=False,
    )


def _runs(env: dict[str, str]) -> list[dict[str, Any]]:
    """The latest runs recorded in ops.pipeline_runs."""
    out = subprocess.run(
        [sys.executable, "-m", "cryptolake.core.cli", "pipeline", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _steps(env: dict[str, str], run_id: str) -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "cryptolake.core.cli", "pipeline", "status", run_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {r["step"]: r for r in json.loads(out.stdout)}


def _table(namespace: str, name: str) -> list[dict[str, Any]]:
    from cryptolake.core.clients import load_catalog

    rows = load_catalog().load_table(f"{namespace}.{name}").scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda r: r["n"])


def _run_id(output: str) -> str:
    found = re.search(r"\brun ([0-9a-f]{12})\b", output)
    assert found, f"no run id in output:\n{output}"
    return found.group(1)


def test_pipeline_runs_through_the_workers(
    env: dict[str, str], start_process: Start, lakehouse_namespace: str, unused_tcp_port: int
) -> None:
    _worker(start_process, {**env, "CRYPTOLAKE_JOBS__WORKER_METRICS_PORT": str(unused_tcp_port)})
    wait_for(lambda: _reachable(unused_tcp_port), "the worker's metrics endpoint", timeout=60)
    assert not any(k.startswith("cryptolake_jobs_total") for k in _scrape(unused_tcp_port))
    out = _pipeline(env)
    assert out.returncode == 0, out.stdout + out.stderr
    run_id = _run_id(out.stderr)
    steps = _steps(env, run_id)
    assert [s for s in steps if s != "*"] == [
        "ingest:probe.numbers",
        "transform:probe.double",
        "gate:gate.silver",
        "transform:probe.total",
    ]
    assert all(s["status"] == "succeeded" for s in steps.values())
    assert steps["gate:gate.silver"]["gate"] == "pass"
    assert steps["ingest:probe.numbers"]["rows_out"] == 5
    assert steps["*"]["via"] == "workers"
    assert _table(lakehouse_namespace, "gold_total") == [{"n": 0, "value": 20}]
    # the worker's /metrics (summed over its pool processes) counted each step and its rows
    metrics = _scrape(unused_tcp_port)
    ingest = 'kind="ingest",name="probe.numbers"'
    assert metrics[f'cryptolake_jobs_total{{{ingest},outcome="succeeded"}}'] == 1
    assert metrics[f"cryptolake_job_records_out_total{{{ingest}}}"] == 5
    assert metrics[f"cryptolake_job_duration_seconds_count{{{ingest}}}"] == 1
    assert metrics['cryptolake_jobs_total{kind="gate",name="gate.silver",outcome="succeeded"}'] == 1
    assert metrics['cryptolake_jobs_total{kind="transform",name="probe.total",outcome="succeeded"}'] == 1
    # the gate that passed, and its one check, by outcome
    assert metrics['cryptolake_quality_gates_total{layer="silver",outcome="passed"}'] == 1
    assert metrics['cryptolake_quality_checks_total{layer="silver",outcome="pass"}'] == 1


def test_a_failed_gate_stops_the_chain_and_records_why(
    env: dict[str, str], start_process: Start, lakehouse_namespace: str
) -> None:
    _worker(start_process, {**env, "PROBE_GATE_FAIL": "1"})
    out = _pipeline(env)
    assert out.returncode == 1
    steps = _steps(env, _run_id(out.stderr))
    assert steps["gate:gate.silver"]["status"] == "failed"
    assert steps["gate:gate.silver"]["gate"] == "fail"
    assert "values are even" in steps["gate:gate.silver"]["error"]
    assert steps["transform:probe.total"]["status"] == "skipped"
    assert steps["*"]["status"] == "failed" and "gate.silver" in steps["*"]["error"]
    from pyiceberg.exceptions import NoSuchTableError

    with pytest.raises(NoSuchTableError):
        _table(lakehouse_namespace, "gold_total")  # gold was never written


def test_a_worker_killed_mid_task_is_redelivered_without_duplicates(
    env: dict[str, str], start_process: Start, lakehouse_namespace: str, tmp_path: Path
) -> None:
    # the default visibility timeout (6 h): only the rescuer's start-up restore can bring the
    # task back within this test
    slow = {**env, "PROBE_SLEEP_S": "6", "PROBE_ROWS": "7",
            "CRYPTOLAKE_JOBS__VISIBILITY_TIMEOUT_S": str(6 * 3600)}
    first = _worker(start_process, slow, "doomed")
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cryptolake.core.cli",
            "pipeline",
            "run",
            "--source",
            "replay",
            "--via-workers",
            "--force",
            "--timeout",
            "400",
        ],
        env=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marker = Path(env["PROBE_MARKER"])
    wait_for(marker.exists, "probe.double to start on the doomed worker", timeout=180, every=0.1)
    os.killpg(first.pid, signal.SIGKILL)  # kill -9 the worker and its pool mid-task
    first.wait()
    _worker(start_process, {**slow, "PROBE_SLEEP_S": "0"}, "rescuer")
    stdout, stderr = runner.communicate(timeout=460)
    assert runner.returncode == 0, stdout + stderr
    assert len(marker.read_text().splitlines()) >= 2, "the task was not redelivered"
    assert _table(lakehouse_namespace, "silver_doubled") == [
        {"n": i, "value": 2 * i} for i in range(7)
    ]
    steps = _steps(env, _run_id(stderr))
    assert steps["*"]["status"] == "succeeded"


def test_queued_work_survives_a_redis_restart(
    env: dict[str, str], start_process: Start, lakehouse_stack: Any, lakehouse_namespace: str
) -> None:
    # No worker yet: the chain's first task waits in the broker; the CLI gives up waiting at once.
    queued = _pipeline(env, timeout=1)
    assert queued.returncode == 1 and "timed out" in queued.stderr
    run_id = _run_id(queued.stderr)
    lakehouse_stack.down(["redis"])  # type: ignore[attr-defined]
    lakehouse_stack.up(["redis"])  # type: ignore[attr-defined]
    _worker(start_process, env)
    runs = wait_for(lambda: [r for r in _runs(env) if r["run_id"] == run_id and r["status"]
                             in ("succeeded", "failed")],
                    f"run {run_id} to finish after the Redis restart", timeout=240, every=2)
    assert runs[0]["status"] == "succeeded"
    assert _table(lakehouse_namespace, "gold_total") == [{"n": 0, "value": 20}]


def test_beat_fires_the_daily_pipeline_on_a_short_schedule(
    env: dict[str, str], start_process: Start, lakehouse_namespace: str, tmp_path: Path,
    unused_tcp_port: int,
) -> None:
    beat_env = {
        **env,
        "CRYPTOLAKE_JOBS__BEAT_METRICS_PORT": str(unused_tcp_port),
        "CRYPTOLAKE_JOBS__DAILY_PIPELINE_CRON": "* * * * *",
        "CRYPTOLAKE_JOBS__DAILY_SOURCE": "replay",
        "CRYPTOLAKE_JOBS__PERIODIC": "true",  # make test runs the stack's beat with it off
        "CRYPTOLAKE_HOME": str(tmp_path / "beat"),
    }
    from datetime import UTC, datetime

    t0 = datetime.now(UTC)
    _worker(start_process, env)
    start_process(["beat"], beat_env, "beat")

    def fired() -> list[dict[str, Any]]:
        return [r for r in _runs(env) if r["via"] == "workers" and r["status"] == "succeeded"
                and datetime.fromisoformat(r["started_at"]) > t0]

    try:
        wait_for(fired, "beat's daily pipeline to run and succeed", timeout=150, every=3)
    except pytest.fail.Exception:
        print((tmp_path / "beat.log").read_text()[-3000:])
        raise
    assert _table(lakehouse_namespace, "gold_total") == [{"n": 0, "value": 20}]
    sent = {k: v for k, v in _scrape(unused_tcp_port).items()
            if k.startswith("cryptolake_beat_tasks_sent_total")}
    assert sent and sum(sent.values()) >= 1, sent  # beat's /metrics counted what it sent


def _scrape(port: int) -> dict[str, float]:
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("cryptolake_")
    }


def _reachable(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
