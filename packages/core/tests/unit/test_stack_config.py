"""Rendering of the services' configuration (no services needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


def test_ports_come_from_the_endpoints(settings: Settings) -> None:
    assert _config.s3_port(settings) == 19000
    assert _config.kafka_port(settings) == 19092
    custom = Settings(
        s3={"endpoint": "http://127.0.0.1:29000"},
        kafka={"bootstrap_servers": "127.0.0.1:29092,127.0.0.1:29094"},
    )
    assert _config.s3_port(custom) == 29000
    assert _config.kafka_port(custom) == 29092


def test_redis_is_persistent_and_loopback_only(settings: Settings, tmp_path: Path) -> None:
    conf = _config.redis_conf(settings, tmp_path / "redis").splitlines()
    assert "appendonly yes" in conf
    assert "bind 127.0.0.1" in conf and "port 16379" in conf
    assert f"dir {tmp_path / 'redis'}" in conf and "daemonize no" in conf


def test_postgres_listens_on_its_port_only_over_tcp(settings: Settings, tmp_path: Path) -> None:
    args = _config.postgres_args(settings, tmp_path)
    assert "port=15432" in args and "listen_addresses=127.0.0.1" in args
    assert "unix_socket_directories=" in args


def test_s3proxy_uses_the_filesystem_backend_and_the_credentials(
    settings: Settings, tmp_path: Path
) -> None:
    props = _props(_config.s3proxy_properties(settings, tmp_path / "s3"))
    assert props["s3proxy.endpoint"] == "http://127.0.0.1:19000"
    assert props["jclouds.provider"] == "filesystem"
    assert props["jclouds.filesystem.basedir"] == str(tmp_path / "s3")
    assert props["s3proxy.identity"] == settings.s3.access_key
    assert props["s3proxy.credential"] == settings.s3.secret_key.get_secret_value()


def test_kafka_is_one_kraft_node_with_replication_factor_one(
    settings: Settings, tmp_path: Path
) -> None:
    props = _props(_config.kafka_server_properties(settings, tmp_path / "kafka"))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str(tmp_path / "kafka")


@pytest.mark.parametrize("heap", ["3G", "1536M", "8g"])
def test_trino_query_memory_fits_in_the_heap(heap: str) -> None:
    mem = _config.trino_memory(heap)
    per_node = int(mem["query.max-memory-per-node"].removesuffix("MB"))
    headroom = int(mem["memory.heap-headroom-per-node"].removesuffix("MB"))
    assert per_node + headroom < _config.heap_bytes(heap) // 2**20


def test_heap_sizes_parse() -> None:
    assert _config.heap_bytes("512M") == 512 * 2**20
    assert _config.heap_bytes("3G") == 3 * 2**30
    with pytest.raises(ValueError):
        _config.heap_bytes("lots")


def test_trino_lakehouse_catalog_is_jdbc_on_native_s3(settings: Settings, tmp_path: Path) -> None:
    files = _config.trino_files(settings, tmp_path / "etc", tmp_path / "data", tmp_path / "opt")
    cat = _props(files["catalog/lakehouse.properties"])
    assert cat["connector.name"] == "iceberg"
    assert cat["iceberg.catalog.type"] == "jdbc"
    assert cat["iceberg.jdbc-catalog.catalog-name"] == settings.lakehouse.catalog
    assert (
        cat["iceberg.jdbc-catalog.connection-url"] == "jdbc:postgresql://127.0.0.1:15432/cryptolake"
    )
    # no trailing slash: a double slash breaks Trino's paths
    assert cat["iceberg.jdbc-catalog.default-warehouse-dir"] == "s3://warehouse"
    assert cat["fs.native-s3.enabled"] == "true" and cat["s3.path-style-access"] == "true"
    assert cat["s3.endpoint"] == settings.s3.endpoint
    config = _props(files["config.properties"])
    assert config["http-server.http.port"] == "18080"
    assert config["discovery.uri"] == "http://127.0.0.1:18080"
    assert "-Xmx3G" in files["jvm.config"].splitlines()
    assert {"catalog/tpch.properties", "catalog/memory.properties"} <= set(files)


def test_catalog_name_follows_the_setting(tmp_path: Path) -> None:
    settings = Settings(lakehouse={"catalog": "other"})
    files = _config.trino_files(settings, tmp_path, tmp_path, tmp_path)
    assert "catalog/other.properties" in files
    assert _props(files["catalog/other.properties"])["iceberg.jdbc-catalog.catalog-name"] == "other"
