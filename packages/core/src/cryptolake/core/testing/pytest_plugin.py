"""Pytest plugin shipped with cryptolake-core (entry point ``pytest11``).

- Turns strict plugin loading on for the whole test run (``CRYPTOLAKE_PLUGINS__STRICT=true``),
  so a plugin that fails to load fails the tests instead of being skipped.
- Registers the ``integration`` and ``e2e`` markers.
- Fixtures: ``cryptolake_settings`` (settings with a private home), ``plugin_host`` (a strict
  host with every installed plugin), ``make_plugin_host`` (build hosts with chosen plugins), and
  the stack fixtures of :mod:`cryptolake.core.testing.stack`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core.manager import PluginHost, build_plugin_manager
from cryptolake.core.settings import Settings, get_settings

pytest_plugins = (
    ["cryptolake.core.testing.stack"]
    if importlib.util.find_spec("cryptolake.core.testing.stack") is not None
    else []
)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CRYPTOLAKE_PLUGINS__STRICT", "true")
    get_settings.cache_clear()
    config.addinivalue_line("markers", "integration: needs the real services of the stack")
    config.addinivalue_line("markers", "e2e: runs the whole stack end to end")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A file whose tests were all deselected by marker (e.g. integration tests under Pants)
    passed: report success instead of pytest's "no tests collected" (5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and session.config.getoption("markexpr"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and reporter.stats.get("deselected"):
            session.exitstatus = pytest.ExitCode.OK


@pytest.fixture
def cryptolake_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings whose home is a fresh temporary directory; the cache is reset around the test."""
    monkeypatch.setenv("CRYPTOLAKE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def make_plugin_host(
    cryptolake_settings: Settings,
) -> Callable[..., PluginHost]:
    """``make_plugin_host(plugins=[...], autoload=False, strict=True, disabled=[...])``."""

    def make(
        plugins: Sequence[object] = (),
        *,
        autoload: bool = False,
        strict: bool = True,
        disabled: Sequence[str] = (),
        **overrides: Any,
    ) -> PluginHost:
        settings = cryptolake_settings.model_copy(deep=True)
        settings.plugins.disabled = list(disabled)
        for key, value in overrides.items():
            setattr(settings, key, value)
        return build_plugin_manager(settings, autoload=autoload, strict=strict, plugins=plugins)

    return make


@pytest.fixture
def plugin_host(make_plugin_host: Callable[..., PluginHost]) -> PluginHost:
    """A strict host with every installed plugin (entry points)."""
    return make_plugin_host(autoload=True)
