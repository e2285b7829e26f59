"""What the local stack exposes: loopback by default, Redis behind a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolake.core.errors import ConfigError
from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_trino_binds_loopback_by_default(tmp_path: Path) -> None:
    files = _config.trino_files(Settings(home=tmp_path), tmp_path, tmp_path, tmp_path)
    node = _props(files["node.properties"])
    assert node["node.bind-ip"] == "127.0.0.1" and node["node.internal-address"] == "127.0.0.1"


def test_exposing_trino_without_authentication_must_be_asked_for(tmp_path: Path) -> None:
    wide = Settings(home=tmp_path, trino={"bind_host": "0.0.0.0"})
    with pytest.raises(ConfigError, match="CRYPTOLAKE_TRINO__EXPOSE_WITHOUT_AUTH"):
        _config.trino_files(wide, tmp_path, tmp_path, tmp_path)
    asked = Settings(home=tmp_path, trino={"bind_host": "0.0.0.0", "expose_without_auth": True})
    node = _props(_config.trino_files(asked, tmp_path, tmp_path, tmp_path)["node.properties"])
    assert node["node.bind-ip"] == "0.0.0.0"


def test_redis_requires_the_password_every_client_uses(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, redis={"password": "r3d:is@/pw"})
    conf = _config.redis_conf(s, tmp_path).splitlines()
    assert "requirepass r3d:is@/pw" in conf and "protected-mode yes" in conf
    from redis.connection import parse_url

    parsed = parse_url(s.redis_url(3))
    assert parsed["password"] == "r3d:is@/pw" and parsed["db"] == 3 and parsed["port"] == 16379


def test_celery_reads_the_redis_password_from_the_settings(tmp_path: Path) -> None:
    from cryptolake.core.jobs.worker import make_app

    app = make_app(Settings(home=tmp_path, redis={"password": "celery-pw-1"}))
    assert ":celery-pw-1@" in app.conf.broker_url and ":celery-pw-1@" in app.conf.result_backend


def test_production_refuses_the_placeholder_redis_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CRYPTOLAKE_REDIS__PASSWORD"):
        Settings(
            home=tmp_path,
            mode="production",
            postgres={"password": "pg-real-1"},
            s3={"secret_key": "s3-real-1"},
        )


def test_beat_sends_only_the_stream_check_when_periodic_work_is_off(tmp_path: Path) -> None:
    from cryptolake.core.jobs.worker import make_app

    on = make_app(Settings(home=tmp_path)).conf.beat_schedule
    assert {"daily-pipeline", "maintenance", "stream-check"} <= set(on)
    off = make_app(Settings(home=tmp_path, jobs={"periodic": False})).conf.beat_schedule
    assert set(off) == {"stream-check"}
