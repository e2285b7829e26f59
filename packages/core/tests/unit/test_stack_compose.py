"""compose.yaml describes the same topology as `cryptolake stack` (ports, catalog, persistence)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config

COMPOSE = Path(__file__).resolve().parents[4] / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _host_port(service: dict) -> int:
    return int(service["ports"][0].split(":")[1])


def test_host_ports_are_the_local_defaults(compose: dict) -> None:
    s = Settings()
    services = compose["services"]
    assert _host_port(services["postgres"]) == s.postgres.port
    assert _host_port(services["redis"]) == s.redis.port
    assert _host_port(services["s3"]) == _config.s3_port(s)
    assert _host_port(services["kafka"]) == _config.kafka_port(s)
    assert _host_port(services["trino"]) == s.trino.port
    for svc in ("postgres", "redis", "s3", "kafka", "trino"):
        assert services[svc]["ports"][0].startswith("127.0.0.1:"), svc  # loopback only


def test_the_versions_match_the_local_stack(compose: dict) -> None:
    s = Settings()
    services = compose["services"]
    assert services["trino"]["image"] == f"trinodb/trino:{s.trino.version}"
    assert services["kafka"]["image"] == f"apache/kafka:{s.kafka.version}"
    assert services["s3"]["image"] == f"andrewgaul/s3proxy:s3proxy-{s.s3.s3proxy_version}"


def test_every_image_is_pinned_to_a_full_version(compose: dict) -> None:
    import re

    for name, svc in compose["services"].items():
        image = svc["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: {image} is not pinned"
        # a major (or major.minor) tag moves under you: the full release version; PostgreSQL's
        # releases are major.minor (15.18), Trino's a single number (476)
        full = r"^\d+\.\d+$" if repo == "postgres" else r"^\d{3,}$"
        assert re.search(r"\d+\.\d+\.\d+", tag) or re.match(full, tag.split("-")[0]), (
            f"{name}: {image} is a moving tag"
        )


def test_the_worker_and_beat_run_like_the_local_stack(compose: dict) -> None:
    services = compose["services"]
    assert services["worker"]["command"] == ["worker"] and services["beat"]["command"] == ["beat"]
    for name in ("worker", "beat", "bootstrap"):
        env = services[name]["environment"]
        assert env["CRYPTOLAKE_REDIS__HOST"] == "redis"
        assert env["CRYPTOLAKE_REDIS__PASSWORD"].startswith("${CRYPTOLAKE_REDIS__PASSWORD")
        assert env["CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:29092"
        assert env["CRYPTOLAKE_POSTGRES__HOST"] == "postgres"
    dockerfile = COMPOSE.parent / services["worker"]["build"]["dockerfile"]
    assert dockerfile.is_file() and "ENTRYPOINT [\"cryptolake\"]" in dockerfile.read_text()


def test_the_bootstrap_job_creates_catalog_tables_bucket_and_namespaces(compose: dict) -> None:
    from cryptolake.core.stack import bootstrap

    job = compose["services"]["bootstrap"]
    assert job["entrypoint"] == ["python", "-m", "cryptolake.core.stack.bootstrap"]
    assert "bootstrap" in job["profiles"]
    import inspect

    body = inspect.getsource(bootstrap.main)
    for step in ("ensure_catalog_tables", "ensure_bucket", "ensure_namespaces"):
        assert step in body


def test_user_and_database_overrides_are_honoured(compose: dict) -> None:
    health = " ".join(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "$${POSTGRES_USER}" in health or "${POSTGRES_USER}" in health
    assert "-U cryptolake" not in health and "-d cryptolake" not in health
    catalog = compose["configs"]["trino-lakehouse"]["content"]
    assert "postgres:5432/${CRYPTOLAKE_POSTGRES__DATABASE:-cryptolake}" in catalog
    assert "connection-user=${CRYPTOLAKE_POSTGRES__USER:-cryptolake}" in catalog
    text = COMPOSE.read_text()
    assert '"-U", "cryptolake"' not in text and '"-d", "cryptolake"' not in text


def test_redis_requires_a_password(compose: dict) -> None:
    cmd = compose["services"]["redis"]["command"]
    assert cmd[cmd.index("--requirepass") + 1].startswith("${CRYPTOLAKE_REDIS__PASSWORD")


def test_redis_is_persistent(compose: dict) -> None:
    assert "--appendonly" in compose["services"]["redis"]["command"]


def test_trino_catalog_matches_the_local_one(compose: dict, tmp_path: Path) -> None:
    import re

    content = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", compose["configs"]["trino-lakehouse"]["content"])
    composed = dict(line.split("=", 1) for line in content.splitlines() if "=" in line)
    local = _config.trino_files(Settings(), tmp_path, tmp_path, tmp_path)
    rendered = dict(
        line.split("=", 1) for line in local["catalog/lakehouse.properties"].splitlines()
    )
    same = (
        "connector.name",
        "iceberg.catalog.type",
        "iceberg.jdbc-catalog.catalog-name",
        "iceberg.jdbc-catalog.driver-class",
        "iceberg.jdbc-catalog.default-warehouse-dir",
        "fs.native-s3.enabled",
        "s3.path-style-access",
        "s3.region",
    )
    assert {k: composed[k] for k in same} == {k: rendered[k] for k in same}


def test_prometheus_scrapes_the_metrics_ports_of_the_settings(compose: dict) -> None:
    import yaml

    s = Settings()
    scrape = yaml.safe_load(compose["configs"]["prometheus-scrape"]["content"])
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in scrape["scrape_configs"]}
    assert targets["cryptolake-worker"] == [f"worker:{s.jobs.worker_metrics_port}"]
    assert targets["cryptolake-beat"] == [f"beat:{s.jobs.beat_metrics_port}"]
    stream = pytest.importorskip("cryptolake.processing.spark._stream_state").StreamConfig()
    assert targets["cryptolake-stream"] == [f"stream:{stream.metrics_port}"]
    assert compose["services"]["stream"]["environment"]["CRYPTOLAKE_STREAM__METRICS_HOST"] == "0.0.0.0"
    env = compose["services"]["worker"]["environment"]
    assert env["CRYPTOLAKE_JOBS__METRICS_HOST"] == "0.0.0.0"  # reachable from the prometheus container
    assert compose["services"]["prometheus"]["ports"][0].startswith("127.0.0.1:")
