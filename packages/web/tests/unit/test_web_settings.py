"""The web app's settings and their place in the project's list of environment variables."""

from __future__ import annotations

import pytest

from cryptolake.web import settings


def test_defaults_and_the_websocket_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in settings.ENV:
        monkeypatch.delenv(name, raising=False)
    s = settings.read_settings()
    assert (s.host, s.port) == ("127.0.0.1", 13000)
    assert s.api_ws_url == "ws://127.0.0.1:18000/graphql"
    monkeypatch.setenv("CRYPTOLAKE_WEB__API_URL", "https://api.example/graphql")
    assert settings.read_settings().api_ws_url == "wss://api.example/graphql"


def test_every_variable_is_listed_in_known_env() -> None:
    from cryptolake.core.known_env import by_name

    known = by_name()
    for name in settings.ENV:
        assert name in known, f"{name} is missing from cryptolake.core.known_env"
        assert known[name].owner == "cryptolake-web"
