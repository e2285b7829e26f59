"""Pytest plugin shipped with cryptolake-core (entry point ``pytest11``).

- Registers the ``integration``, ``e2e`` and ``installed`` markers.
- Changes nothing else: not the environment, not pytest's exit codes. The hosts its fixtures
  build are strict (a plugin that fails to load fails the test); for hosts your code builds from
  the environment, set ``CRYPTOLAKE_PLUGINS__STRICT=true`` in your test command.
- Fixtures: ``cryptolake_settings`` (settings with a private home), ``plugin_host`` (a strict
  host with every installed plugin), ``make_plugin_host`` (build hosts with chosen plugins),
  ``lakehouse_sandbox`` (a private offline Iceberg catalog) and ``run_entry`` (run an entry for
  real against it), and the stack fixtures of :mod:`cryptolake.core.testing.stack`.
"""

from __future__ import annotations

import importlib.util
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
    config.addinivalue_line("markers", "integration: needs the real services of the stack")
    config.addinivalue_line("markers", "e2e: runs the whole stack end to end")
    config.addinivalue_line("markers", "installed: needs the packages installed as distributions")


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
def lakehouse_sandbox(tmp_path: Path) -> Any:
    """A private, offline Iceberg catalog (SQLite + a local warehouse) with one namespace per
    layer: :class:`cryptolake.core.testing.sandbox.LakehouseSandbox`. Needs the ``lakehouse``
    extra."""
    from cryptolake.core.testing.sandbox import LakehouseSandbox

    return LakehouseSandbox(tmp_path / "lakehouse")


@pytest.fixture
def run_entry(
    make_plugin_host: Callable[..., PluginHost], lakehouse_sandbox: Any
) -> Callable[..., Any]:
    """``run_entry(plugin, "name.entry", config={...}, params={...})``: run a source, transform or
    quality suite of ``plugin`` for real against ``lakehouse_sandbox`` (lifecycle hooks included);
    returns its ``JobResult`` (a suite: its ``CheckResult`` list)."""
    from cryptolake.core.testing import sandbox

    def run(plugin: object, name: str, config: dict[str, Any] | None = None, *,
            params: dict[str, Any] | None = None) -> Any:
        if isinstance(plugin, str):
            import importlib

            plugin = importlib.import_module(plugin)
        host = make_plugin_host([plugin])
        return sandbox.run_entry(host, lakehouse_sandbox, name, config, params=params)

    return run


@pytest.fixture
def plugin_host(make_plugin_host: Callable[..., PluginHost]) -> PluginHost:
    """A strict host with every installed plugin (entry points)."""
    return make_plugin_host(autoload=True)
