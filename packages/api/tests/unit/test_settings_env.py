"""Every API setting is listed in the core's known_env, and only those."""

from __future__ import annotations

from cryptolake.api.settings import ApiSettings, RoleLimits
from cryptolake.core.known_env import KNOWN_ENV


def test_every_api_setting_is_listed_once_in_known_env() -> None:
    want = set()
    for name, fld in ApiSettings.model_fields.items():
        if fld.annotation is RoleLimits:
            want |= {f"CRYPTOLAKE_API__{name.upper()}__{sub.upper()}" for sub in RoleLimits.model_fields}
        else:
            want.add(f"CRYPTOLAKE_API__{name.upper()}")
    listed = [e.name for e in KNOWN_ENV if e.owner == "cryptolake-api"]
    assert len(listed) == len(set(listed))
    assert set(listed) == want


def test_role_limits_come_from_the_environment(monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    mp.setenv("CRYPTOLAKE_API__READER__RATE_PER_MINUTE", "7")
    try:
        assert ApiSettings().limits("reader").rate_per_minute == 7
        assert ApiSettings().limits("nobody") == ApiSettings().anonymous
    finally:
        mp.undo()
