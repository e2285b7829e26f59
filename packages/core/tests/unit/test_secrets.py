"""Secrets: encoded in URLs, written 0600, never in logs, redacted by Spark."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from pathlib import Path

import pytest

from cryptolake.core.clients import spark_conf
from cryptolake.core.logging import RedactingHandler, configure
from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config
from cryptolake.core.stack._layout import Layout
from cryptolake.core.stack.services import Redis, S3Proxy, Trino

NASTY = "p@ss/w:rd%40#?x"


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        postgres={"password": NASTY, "user": "lake@user"},
        s3={"secret_key": "s3-Secret/with+slash"},
    )


def test_a_password_with_at_and_slash_round_trips_through_the_catalog_dsn(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(_settings(tmp_path).postgres_dsn)
    assert url.password == NASTY and url.username == "lake@user"
    assert (url.host, url.port, url.database) == ("127.0.0.1", 15432, "cryptolake")


def test_every_file_holding_a_secret_is_written_0600(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        s = _settings(tmp_path)
        layout = Layout(tmp_path)
        Trino(s, layout).prepare()
        S3Proxy(s, layout).prepare()
        Redis(s, layout).prepare()
    finally:
        os.umask(old)
    secret_files = [
        p
        for p in (tmp_path / "etc").rglob("*")
        if p.is_file() and (NASTY in p.read_text() or "s3-Secret/with+slash" in p.read_text())
    ]
    assert {p.name for p in secret_files} >= {"lakehouse.properties", "s3proxy.properties"}
    for p in [*secret_files, tmp_path / "etc/redis/redis.conf"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_write_private_never_shows_a_wider_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.properties"
    target.write_text("old")
    target.chmod(0o644)
    _config.write_private(target, "secret=1\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "secret=1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.properties"]


def test_secrets_never_reach_the_logs(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    stream = io.StringIO()
    handler = RedactingHandler(stream, s.secret_values())
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test.secrets")
    log.addHandler(handler)
    try:
        log.error("connecting to %s", s.postgres_dsn)
        try:
            raise RuntimeError(f"auth failed for password {NASTY}")
        except RuntimeError:
            log.exception("boom with %s", s.s3.secret_key.get_secret_value())
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert NASTY not in out and "p%40ss" not in out and "s3-Secret/with+slash" not in out
    assert out.count("***") >= 3 and "lake%40user" in out  # user names are not secrets


def test_configure_installs_the_redacting_handler() -> None:
    configure("INFO", "text", secrets=["topsecret"])
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "cryptolake")
    assert isinstance(handler, RedactingHandler) and handler.secrets == ["topsecret"]


def test_placeholders_are_not_redacted_everywhere(tmp_path: Path) -> None:
    # the local placeholder password "cryptolake" is also the user, database and package name
    assert Settings(home=tmp_path).secret_values() == []


def test_spark_redacts_every_secret_it_is_given(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    conf = spark_conf(s)
    pattern = re.compile(conf["spark.redaction.regex"])
    secrets = set(s.secret_values())
    holding = [k for k, v in conf.items() if v in secrets]
    assert len(holding) >= 2
    for key in holding:
        assert pattern.search(key), f"{key} would be shown in Spark's UI and logs"


@pytest.mark.parametrize("key", ["spark.driver.host", "spark.driver.bindAddress"])
def test_spark_driver_addresses_are_settings(tmp_path: Path, key: str) -> None:
    s = Settings(home=tmp_path, spark={"driver_host": "10.0.0.5", "driver_bind_address": "0.0.0.0"})
    conf = spark_conf(s)
    assert conf["spark.driver.host"] == "10.0.0.5"
    assert conf["spark.driver.bindAddress"] == "0.0.0.0"
    assert spark_conf(Settings(home=tmp_path))[key] == "127.0.0.1"


def test_the_stream_checkpoint_location_is_a_setting_and_may_be_s3(tmp_path: Path) -> None:
    from cryptolake.core.clients import checkpoint_location

    assert checkpoint_location("bronze", Settings(home=tmp_path)) == str(
        tmp_path / "data/spark-checkpoints/bronze"
    )
    s3 = Settings(home=tmp_path, spark={"checkpoint_root": "s3a://warehouse/_checkpoints/"})
    assert checkpoint_location("bronze", s3) == "s3a://warehouse/_checkpoints/bronze"
    conf = spark_conf(s3)  # S3A reaches the same store as the warehouse
    assert conf["spark.hadoop.fs.s3a.endpoint"] == s3.s3.endpoint
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
