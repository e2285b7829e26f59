"""The plugin author's test kit.

Conformance classes — one line per plugin::

    from cryptolake.core.testing import SourceConformance

    class TestMySource(SourceConformance, plugin="my_package.plugin"):
        example_config = {"symbols": ["BTCUSDT"]}

The pytest plugin :mod:`cryptolake.core.testing.pytest_plugin` (registered automatically through
the ``pytest11`` entry point) turns strict plugin loading on and provides the fixtures
``cryptolake_settings``, ``plugin_host`` and ``make_plugin_host``.
"""

from __future__ import annotations

from cryptolake.core.testing.conformance import (
    ModelConformance,
    PluginConformance,
    QualityConformance,
    SourceConformance,
    TransformConformance,
)

__all__ = [
    "ModelConformance",
    "PluginConformance",
    "QualityConformance",
    "SourceConformance",
    "TransformConformance",
]
