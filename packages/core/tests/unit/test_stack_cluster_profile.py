"""The cluster profile: what it starts and how each node is configured (no services needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolake.core.clients.spark import spark_conf
from cryptolake.core.settings import Settings
from cryptolake.core.stack import SERVICE_NAMES, _config
from cryptolake.core.stack._stack import Stack


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CRYPTOLAKE_STACK__PROFILE", "cluster")
    monkeypatch.setenv("CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:29092")
    monkeypatch.setenv("CRYPTOLAKE_KAFKA__CONTROLLER_PORT", "29093")
    monkeypatch.setenv("CRYPTOLAKE_TRINO__PORT", "28080")
    monkeypatch.setenv("CRYPTOLAKE_SPARK__MASTER_PORT", "27077")
    return Settings(home=tmp_path)


def test_the_default_profile_runs_one_node_per_engine(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    assert s.stack.profile == "single"
    assert Stack(s).names == SERVICE_NAMES
    assert s.spark.master == "local[2]" and s.kafka.replication_factor == 1
    assert "spark.cores.max" not in spark_conf(s)
    # several bootstrap servers name somebody's brokers: the local stack still runs one
    several = Settings(home=tmp_path, kafka={"bootstrap_servers": "127.0.0.1:1,127.0.0.1:2"})
    assert Stack(several).names == SERVICE_NAMES
    assert _props(_config.kafka_server_properties(several, tmp_path))[
        "controller.quorum.voters"
    ] == "1@127.0.0.1:19093"


def test_the_cluster_profile_adds_brokers_trino_workers_and_a_spark_cluster(
    cluster: Settings,
) -> None:
    stack = Stack(cluster)
    assert stack.names == (
        "postgres", "redis", "s3", "kafka", "kafka-2", "kafka-3", "trino", "trino-worker-1",
        "spark-master", "spark-worker-1", "spark-worker-2", "worker", "beat", "api", "web",
    )
    assert set(stack.infra()) == set(stack.names) - {"worker", "beat", "api", "web"}
    ports = [p for name in stack.names for p in stack.services[name].ports()]
    assert len(ports) == len(set(ports)), "two services of the cluster share a port"
    # `up kafka` starts the quorum, `up trino` its worker, `up worker` the Spark cluster
    assert {"kafka-2", "kafka-3"} <= set(stack.resolve(["kafka"]))
    assert "trino-worker-1" in stack.resolve(["trino"])
    assert {"spark-master", "spark-worker-1", "spark-worker-2"} <= set(stack.resolve(["worker"]))
    assert "spark-worker-2" in stack.resolve(["spark-worker-1"])


def test_three_brokers_form_one_quorum_with_replicated_topics(
    cluster: Settings, tmp_path: Path
) -> None:
    assert cluster.kafka.bootstrap_servers == "127.0.0.1:29092,127.0.0.1:29192,127.0.0.1:29292"
    assert cluster.kafka.replication_factor == 3 and cluster.kafka.min_insync_replicas == 2
    voters = "1@127.0.0.1:29093,2@127.0.0.1:29193,3@127.0.0.1:29293"
    for i in range(3):
        p = _props(_config.kafka_server_properties(cluster, tmp_path / f"k{i}", i))
        assert p["node.id"] == str(i + 1)
        assert p["controller.quorum.voters"] == voters
        assert p["listeners"] == (
            f"PLAINTEXT://127.0.0.1:{29092 + 100 * i},CONTROLLER://127.0.0.1:{29093 + 100 * i}"
        )
        assert p["offsets.topic.replication.factor"] == "3"
        assert p["transaction.state.log.min.isr"] == "2"
        assert p["min.insync.replicas"] == "2" and p["default.replication.factor"] == "3"
        assert p["unclean.leader.election.enable"] == "false"


def test_the_trino_coordinator_schedules_nothing_on_itself(cluster: Settings, tmp_path: Path) -> None:
    coord = _config.trino_files(cluster, tmp_path / "c", tmp_path / "cd", tmp_path / "opt")
    worker = _config.trino_files(
        cluster, tmp_path / "w", tmp_path / "wd", tmp_path / "opt", worker=0
    )
    c, w = _props(coord["config.properties"]), _props(worker["config.properties"])
    assert c["coordinator"] == "true" and c["node-scheduler.include-coordinator"] == "false"
    assert w["coordinator"] == "false" and "node-scheduler.include-coordinator" not in w
    assert w["discovery.uri"] == c["discovery.uri"] == "http://127.0.0.1:28080"
    assert w["http-server.http.port"] == "28081"
    assert _props(worker["node.properties"])["node.id"] == "cryptolake-worker-1"
    assert _props(coord["node.properties"])["node.id"] == "cryptolake-1"
    assert "-Xmx1G" in coord["jvm.config"] and "-Xmx1536M" in worker["jvm.config"]
    catalog = f"catalog/{cluster.lakehouse.catalog}.properties"
    assert worker[catalog] == coord[catalog]  # workers read the same lakehouse


def test_jobs_are_submitted_to_the_standalone_master_with_bounded_executors(
    cluster: Settings,
) -> None:
    conf = spark_conf(cluster)
    assert conf["spark.master"] == "spark://127.0.0.1:27077"
    assert conf["spark.cores.max"] == "2" and conf["spark.executor.memory"] == "512m"
    assert conf["spark.driver.memory"] == "1g"
    stack = Stack(cluster)
    worker = stack.services["spark-worker-2"].launch()
    assert worker.command[-1] == "spark://127.0.0.1:27077"
    assert worker.env["SPARK_HOME"].endswith("pyspark")
    assert "--cores" in worker.command and "--memory" in worker.command


def test_explicit_settings_win_over_the_profile(
    cluster: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTOLAKE_KAFKA__REPLICATION_FACTOR", "2")
    monkeypatch.setenv("CRYPTOLAKE_SPARK__MASTER", "spark://spark-master.internal:7077")
    monkeypatch.setenv("CRYPTOLAKE_TRINO__WORKERS", "3")
    s = Settings(home=tmp_path)
    assert s.kafka.replication_factor == 2 and s.kafka.min_insync_replicas == 2
    assert s.spark.master == "spark://spark-master.internal:7077"
    assert [n for n in Stack(s).names if n.startswith("trino-worker-")] == [
        "trino-worker-1", "trino-worker-2", "trino-worker-3",
    ]
