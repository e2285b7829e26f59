"""compose.yaml describes the same topology as `cryptolake stack` (ports, catalog, persistence)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config
from cryptolake.core.stack.bootstrap import CATALOG_DDL

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
    assert compose["services"]["trino"]["image"] == f"trinodb/trino:{s.trino.version}"
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:4.")


def test_redis_is_persistent(compose: dict) -> None:
    assert "--appendonly" in compose["services"]["redis"]["command"]


def test_trino_catalog_matches_the_local_one(compose: dict, tmp_path: Path) -> None:
    content = compose["configs"]["trino-lakehouse"]["content"]
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


def test_compose_bootstrap_creates_the_same_catalog_tables(compose: dict) -> None:
    ddl = compose["configs"]["catalog-ddl"]["content"]
    for table in ("iceberg_tables", "iceberg_namespace_properties"):
        assert f"CREATE TABLE IF NOT EXISTS {table}" in ddl
        assert any(f"CREATE TABLE IF NOT EXISTS {table}" in d for d in CATALOG_DDL)
    assert "iceberg_type VARCHAR(5)" in ddl
    for ns in Settings().lakehouse.namespaces:
        assert f"'{ns}'" in ddl
