from __future__ import annotations

import pytest
from pydantic import BaseModel

from cryptolake.core import ConfigError, Settings
from cryptolake.core.cli.config_cmd import MASK, flatten
from cryptolake.core.known_env import KNOWN_ENV


def test_every_setting_is_listed_once_in_known_env() -> None:
    names = [e.name for e in KNOWN_ENV]
    assert len(names) == len(set(names)), "an environment variable is listed twice"
    assert set(flatten(Settings())) == {e.name for e in KNOWN_ENV if e.owner == "core"}


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLAKE_TRINO__PORT", "28080")
    monkeypatch.setenv("CRYPTOLAKE_PLUGINS__DISABLED", '["binance", "replay"]')
    s = Settings()
    assert s.trino.port == 28080
    assert s.plugins.disabled == ["binance", "replay"]


def test_placeholder_secrets_refused_outside_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLAKE_MODE", "production")
    with pytest.raises(ConfigError, match="CRYPTOLAKE_POSTGRES__PASSWORD"):
        Settings()
    monkeypatch.setenv("CRYPTOLAKE_POSTGRES__PASSWORD", "s3cr3t-pg")
    monkeypatch.setenv("CRYPTOLAKE_S3__SECRET_KEY", "s3cr3t-s3")
    with pytest.raises(ConfigError, match="CRYPTOLAKE_REDIS__PASSWORD"):
        Settings()
    monkeypatch.setenv("CRYPTOLAKE_REDIS__PASSWORD", "s3cr3t-redis")
    assert Settings().mode == "production"


def test_secrets_are_masked() -> None:
    flat = flatten(Settings())
    secret_names = {e.name for e in KNOWN_ENV if e.secret}
    assert secret_names and all(flat[n] in (MASK, None) for n in secret_names)  # None: unset
    assert flat["CRYPTOLAKE_POSTGRES__PASSWORD"] == MASK
    assert all(isinstance(v, (str, int, float, bool, list)) or v is None or not isinstance(v, BaseModel) for v in flat.values())


def test_home_defaults_outside_any_repository(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("CRYPTOLAKE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert Settings().home == tmp_path / "cryptolake"
