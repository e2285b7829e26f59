"""End to end: the bundled real data through the whole stack, on the Celery workers.

replay (Kafka + Bronze) → the stream job's catch-up (Kafka → Bronze, Spark) → Silver (Spark
MERGE jobs) → the Silver gate (Soda) → Gold (dbt-trino, audited and published). The expected
row counts come from the recorded files themselves (tests/e2e/_expected.py), not from the
pipeline's parsers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from _expected import expected

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]

CLI = [sys.executable, "-m", "cryptolake.core.cli"]


@pytest.fixture(scope="module")
def worker_env(lakehouse_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Celery worker of its own (private broker databases) with every built-in plugin."""
    db = 14
    env = {**os.environ, "CRYPTOLAKE_JOBS__BROKER_DB": str(db),
           "CRYPTOLAKE_JOBS__RESULT_DB": str(db + 1), "CRYPTOLAKE_LOG__FORMAT": "text"}
    log = tmp_path_factory.mktemp("e2e") / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen([*CLI, "worker", "-c", "1", "-n", f"e2e-{uuid.uuid4().hex[:6]}@%h"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    yield env
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


def _trino(sql: str) -> list[tuple[Any, ...]]:
    from cryptolake.core.clients import query

    return query(sql)


def _count(table: str, where: str = "") -> int:
    return int(_trino(f"SELECT count(*) FROM {table} {where}")[0][0])


def _digests() -> dict[tuple[str, str], tuple[int, str]]:
    from cryptolake.core.cli.lakehouse_cmd import layer_digest
    from cryptolake.core.settings import get_settings

    return {(r["layer"], r["table"]): (r["rows"], r["digest"]) for r in layer_digest(get_settings())}


@pytest.fixture(scope="module")
def digests_before(loaded_lakehouse: Any) -> dict[tuple[str, str], tuple[int, str]]:
    """Every Bronze, Silver and Gold table's content hash with the bundled data already loaded,
    so the forced run below is a rerun over the same input."""
    return _digests()


@pytest.fixture(scope="module")
def gold_before(loaded_lakehouse: Any) -> dict[str, int | None]:
    """Published Gold's snapshot per table before the forced run."""
    from cryptolake.core.pipeline import current_snapshots
    from cryptolake.core.settings import get_settings

    return current_snapshots(get_settings(), "gold")


@pytest.fixture(scope="module")
def pipeline_run(worker_env: dict[str, str], digests_before: dict[tuple[str, str], tuple[int, str]],
                 gold_before: dict[str, int | None]) -> dict[str, Any]:
    from cryptolake.processing.spark import stream_status

    stream_before = stream_status("bronze")
    out = subprocess.run([*CLI, "pipeline", "run", "--source", "replay", "--via-workers", "--force",
                          "--timeout", "2400"], env=worker_env, capture_output=True, text=True,
                         timeout=2700, check=False)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    found = re.search(r"\brun ([0-9a-f]{12})\b", out.stderr)
    assert found, out.stderr
    steps = subprocess.run([*CLI, "pipeline", "status", found.group(1), "--json"], env=worker_env,
                           capture_output=True, text=True, check=True)
    return {"run_id": found.group(1), "steps": {r["step"]: r for r in json.loads(steps.stdout)},
            "output": out.stderr, "stream_before": stream_before}


def test_every_step_succeeded_on_the_workers(pipeline_run: dict[str, Any]) -> None:
    steps = pipeline_run["steps"]
    assert steps["*"]["status"] == "succeeded" and steps["*"]["via"] == "workers"
    labels = [s for s in steps if s != "*"]
    assert labels[0] == "ingest:replay.recorded"
    assert labels.index("transform:bronze.binance_stream") < labels.index("transform:silver.trades")
    assert labels.index("gate:gate.silver") < labels.index("transform:dbt.gold")
    assert all(steps[s]["status"] == "succeeded" for s in labels), steps
    assert steps["gate:gate.silver"]["gate"] == "pass"
    assert steps["transform:dbt.gold"]["gate"] == "pass"
    assert steps["ingest:replay.recorded"]["rejected"] == 0


def test_the_bronze_step_leaves_the_long_lived_stream_as_it_found_it(
        pipeline_run: dict[str, Any]) -> None:
    """Without a running stream the Bronze step drains Kafka in a one-off Spark query on the
    worker; that run is not the supervised stream, so it must not leave the stream looking dead
    (the worker's stream check, sent by beat every minute, would then start a stream nobody had
    started)."""
    from cryptolake.processing.spark import stream_status
    from cryptolake.processing.spark.stream import BronzeStream

    before, after = pipeline_run["stream_before"], stream_status("bronze")
    if before.running:  # the step waited for the stream to catch up
        assert after.running, after
        return
    assert not after.running and after.state == before.state != "dead", (before, after)
    assert BronzeStream().ensure_running() is False


def test_row_counts_in_every_layer_match_the_recorded_input(pipeline_run: dict[str, Any]) -> None:
    want = expected()
    assert _count("silver.ohlcv_1m") == want.ohlcv_1m
    assert _count("silver.ohlcv_1h") == want.ohlcv_1h
    assert _count("silver.trades") == want.trades
    assert _count("silver.fear_greed") == want.fear_greed
    assert _count("gold.fact_price_hourly") == want.ohlcv_1h
    assert _count("gold.market_ohlc") == want.market_ohlc
    assert _count("gold.dim_coins") == want.symbols
    # Bronze keeps every fed record: at least one row per Silver key, none rejected
    assert _count("bronze.binance_klines", "WHERE interval = '1h'") >= len(
        {k for k in _trino("SELECT symbol, open_time FROM silver.ohlcv_1h WHERE source <> 'trades'")}
    )
    assert _count("bronze.fear_greed") >= want.fear_greed
    # no duplicates on natural keys
    assert _trino("SELECT count(*) FROM (SELECT symbol, open_time FROM silver.ohlcv_1h "
                  "GROUP BY 1, 2 HAVING count(*) > 1)")[0][0] == 0


def test_a_rerun_over_the_same_input_leaves_every_table_identical(
        pipeline_run: dict[str, Any], digests_before: dict[tuple[str, str], tuple[int, str]]) -> None:
    """The forced run replayed every recorded file again and ran every job: each table of Bronze,
    Silver and Gold holds exactly the rows it held before (Trino's order-insensitive checksum of
    every column, ``cryptolake lakehouse digest``)."""
    after = _digests()
    changed = {t: (digests_before.get(t), after.get(t)) for t in set(digests_before) | set(after)
               if digests_before.get(t) != after.get(t)}
    assert not changed, changed
    assert any(rows for rows, _ in after.values())


def test_gold_unchanged_input_is_audited_not_rebuilt(pipeline_run: dict[str, Any],
                                                     gold_before: dict[str, int | None]) -> None:
    """The forced run's Silver jobs found nothing new, so Silver's publication pins the same
    snapshots: dbt.gold does not build (it could only write the same rows), published Gold keeps
    its snapshots, and the Gold suites ran on it in this run."""
    from cryptolake.core.pipeline import current_snapshots
    from cryptolake.core.settings import get_settings

    assert current_snapshots(get_settings(), "gold") == gold_before
    rows = _trino(f"SELECT outcome, count(*) FROM ops.dq_results WHERE run_id = '{pipeline_run['run_id']}' "
                  "AND layer = 'gold' GROUP BY 1")
    assert rows and all(outcome == "pass" for outcome, _ in rows), rows


def test_gates_recorded_passing_results(pipeline_run: dict[str, Any]) -> None:
    rows = _trino(
        "SELECT layer, outcome, count(*) FROM ops.dq_results WHERE run_id IN "
        "(SELECT run_id FROM ops.dq_results ORDER BY checked_at DESC LIMIT 1) GROUP BY 1, 2"
    )
    assert rows and all(outcome == "pass" for _, outcome, _ in rows), rows


def test_a_finished_window_is_not_run_twice(pipeline_run: dict[str, Any],
                                            worker_env: dict[str, str]) -> None:
    before = _count("ops.pipeline_runs")
    again = subprocess.run([*CLI, "pipeline", "run", "--source", "replay", "--via-workers"],
                           env=worker_env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr and pipeline_run["run_id"] in again.stderr
    assert _count("ops.pipeline_runs") == before


def test_the_summary_command_shows_every_layer(pipeline_run: dict[str, Any]) -> None:
    out = subprocess.run([*CLI, "lakehouse", "summary", "--json"], capture_output=True, text=True,
                         check=True)
    rows = {(r["layer"], r["table"]): r["rows"] for r in json.loads(out.stdout)}
    assert rows[("gold", "market_ohlc")] == expected().market_ohlc
    assert {layer for layer, _ in rows} >= {"bronze", "silver", "gold", "ops"}
