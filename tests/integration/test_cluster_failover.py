"""The daily pipeline on the local cluster profile survives losing a Kafka broker and a Spark
worker in the middle of its run, and its layers still hold exactly the recorded input.

The cluster (three KRaft brokers with topics at replication factor 3 and min.insync.replicas 2,
a Trino coordinator with a separate worker, a Spark standalone master with two workers) is this
module's own: a private home whose ``downloads/`` and ``opt/`` are the default home's (nothing is
fetched) and its own block of ports, started here and stopped at the end. With
``CRYPTOLAKE_STACK__PROFILE=cluster`` already in the environment the test runs on that cluster
instead (started if needed; what it stopped is brought back afterwards).

The faults: as soon as the pipeline's Spark application has an executor on ``spark-worker-2``,
that worker (with its executors) and the broker leading the trades topic are stopped, and stay
stopped for the rest of the run. Everything is awaited, nothing is timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core.settings import Settings, default_home, get_settings

# Opt-in (marker ``cluster``, not in ``make test``'s tiers): a whole second, multi-node stack
# plus the daily pipeline on it takes longer on this 2-core machine than CI's budget allows.
# Run it with ``pytest -m cluster tests/integration/test_cluster_failover.py``.
# generous: the cluster's start and the pipeline share 2 loaded cores with other stacks
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(6000)]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from _expected import expected  # noqa: E402  # pants: no-infer-dep

CLI = [sys.executable, "-m", "cryptolake.core.cli"]
#: measured: 40+ minutes for the whole chain on 2 cores shared with two other stacks
PIPELINE_TIMEOUT_S = 4800

#: the private cluster's ports: none of the default stack's, all below the ephemeral range
PRIVATE_PORTS = {
    "CRYPTOLAKE_POSTGRES__PORT": "27432",
    "CRYPTOLAKE_REDIS__PORT": "28379",
    "CRYPTOLAKE_S3__ENDPOINT": "http://127.0.0.1:31000",
    "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:31092",  # brokers 31092, 31192, 31292
    "CRYPTOLAKE_KAFKA__CONTROLLER_PORT": "31093",
    "CRYPTOLAKE_TRINO__PORT": "30080",  # worker 30081
    "CRYPTOLAKE_SPARK__MASTER_PORT": "29077",  # UI 29080, workers 29087-29090
    "CRYPTOLAKE_JOBS__WORKER_METRICS_PORT": "31101",
    "CRYPTOLAKE_JOBS__BEAT_METRICS_PORT": "31102",
    "CRYPTOLAKE_STREAM__METRICS_PORT": "31103",
    "CRYPTOLAKE_API__PORT": "30000",
    "CRYPTOLAKE_WEB__PORT": "25000",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from cryptolake.core.stack import Stack

    own = get_settings().stack.profile != "cluster"
    with pytest.MonkeyPatch.context() as mp:
        if own:
            cache = default_home()
            home = tmp_path_factory.mktemp("cluster") / "home"
            home.mkdir()
            for shared in ("downloads", "opt"):  # installed by `stack setup`; nothing is fetched
                (home / shared).symlink_to(cache / shared)
            mp.setenv("CRYPTOLAKE_HOME", str(home))
            mp.setenv("CRYPTOLAKE_STACK__PROFILE", "cluster")
            for key, value in PRIVATE_PORTS.items():
                mp.setenv(key, value)
        mp.setenv("CRYPTOLAKE_LOG__FORMAT", "text")
        get_settings.cache_clear()
        stack = Stack(get_settings())
        t0 = time.monotonic()
        started = stack.up(stack.infra()).started
        print(f"\ncluster up in {time.monotonic() - t0:.0f}s (started: {', '.join(started)})")
        try:
            yield stack
        finally:
            if own:
                stack.down()
            else:  # leave the developer's cluster whole (down([]) would stop all of it)
                stack.up(stack.infra())
                if started:
                    stack.down(started)
            get_settings.cache_clear()


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def _executors_on(stack: Any, worker: str) -> int:
    """Executors running on the standalone ``worker`` (its web UI's JSON)."""
    web = stack.services[worker].ports()[1]
    host = stack.settings.spark.driver_host
    return len(_json(f"http://{host}:{web}/json/")["executors"])


def _leader_of(topic: str, settings: Settings) -> int:
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients import admin_config

    meta = AdminClient(admin_config(settings)).list_topics(topic, timeout=30)
    return int(meta.topics[topic].partitions[0].leader)


def _broker_ids(settings: Settings) -> set[int]:
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients import admin_config

    return set(AdminClient(admin_config(settings)).list_topics(timeout=30).brokers)


def _count(table: str, where: str = "") -> int:
    from cryptolake.core.clients import query

    return int(query(f"SELECT count(*) FROM {table} {where}")[0][0])


@pytest.fixture(scope="module")
def faulted_run(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    s: Settings = cluster.settings
    assert s.kafka.replication_factor == 3 and len(s.kafka.broker_addresses) == 3
    log = tmp_path_factory.mktemp("pipeline") / "pipeline.log"
    t0 = time.monotonic()
    with log.open("w") as out:
        run = subprocess.Popen([*CLI, "pipeline", "run", "--source", "replay", "--force"],
                               stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ),
                               start_new_session=True)
    faults: dict[str, Any] = {}
    try:
        while run.poll() is None and not faults:
            if time.monotonic() - t0 > PIPELINE_TIMEOUT_S:
                break
            try:
                busy = _executors_on(cluster, "spark-worker-2")
            except OSError:
                busy = 0
            if busy:
                leader = _leader_of("binance.aggtrade", s)
                broker = "kafka" if leader == 1 else f"kafka-{leader}"
                faults = {"broker": broker, "broker_id": leader, "spark_worker": "spark-worker-2",
                          "at_s": round(time.monotonic() - t0, 1),
                          "rss_mb": {st.service: st.rss_mb for st in cluster.status(cluster.infra())}}
                cluster.down(["spark-worker-2", broker])
                faults["brokers_left"] = sorted(_broker_ids(s))
                workers = cluster.services["spark-master"].master_state(timeout=10)
                faults["spark_workers_alive"] = sorted(
                    w["port"] for w in workers["workers"] if w["state"] == "ALIVE")
                print(f"\nstopped {broker} and spark-worker-2 {faults['at_s']}s into the run")
            time.sleep(1)
        run.wait(timeout=max(60.0, PIPELINE_TIMEOUT_S - (time.monotonic() - t0)))
    finally:
        if run.poll() is None:
            os.killpg(run.pid, 9)  # the CLI and its Spark driver JVM
            run.wait()
    output = log.read_text(errors="replace")
    print(output[-3000:])
    return {"rc": run.returncode, "faults": faults, "output": output,
            "seconds": round(time.monotonic() - t0, 1)}


def test_the_faults_struck_while_the_pipeline_ran(faulted_run: dict[str, Any],
                                                  cluster: Any) -> None:
    faults = faulted_run["faults"]
    assert faults, "the pipeline ended before its Spark application reached spark-worker-2"
    print(f"\nRSS MB per process at the fault: {faults['rss_mb']}")
    assert faults["broker_id"] not in faults["brokers_left"] and len(faults["brokers_left"]) == 2
    worker2 = cluster.services["spark-worker-2"].ports()[0]
    assert worker2 not in faults["spark_workers_alive"]


def test_the_pipeline_completed_with_exact_counts(faulted_run: dict[str, Any]) -> None:
    assert faulted_run["rc"] == 0, faulted_run["output"][-4000:]
    want = expected()
    assert _count("silver.ohlcv_1m") == want.ohlcv_1m
    assert _count("silver.ohlcv_1h") == want.ohlcv_1h
    assert _count("silver.trades") == want.trades
    assert _count("silver.fear_greed") == want.fear_greed
    assert _count("gold.fact_price_hourly") == want.ohlcv_1h
    assert _count("gold.market_ohlc") == want.market_ohlc
    assert _count("gold.dim_coins") == want.symbols
    # nothing doubled by the retried tasks and the leader election
    for table, key in (("silver.trades", "symbol, agg_trade_id"),
                       ("silver.ohlcv_1h", "symbol, open_time")):
        dupes = f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1)"
        from cryptolake.core.clients import query

        assert query(dupes)[0][0] == 0, table
    print(f"\npipeline with the faults: {faulted_run['seconds']}s; silver.trades "
          f"{want.trades}, ohlcv_1m {want.ohlcv_1m}, ohlcv_1h {want.ohlcv_1h}, "
          f"market_ohlc {want.market_ohlc}")

