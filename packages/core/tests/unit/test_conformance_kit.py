"""The conformance classes, run against the in-code demo plugin (one line per family)."""

from __future__ import annotations

from _plugins import make_plugin

from cryptolake.core.testing import (
    ModelConformance,
    QualityConformance,
    SourceConformance,
    TransformConformance,
)

DEMO = make_plugin("demo")


class TestDemoSource(SourceConformance, plugin=DEMO):
    pass


class TestDemoTransform(TransformConformance, plugin=DEMO):
    pass


class TestDemoQuality(QualityConformance, plugin=DEMO):
    pass


class TestDemoModel(ModelConformance, plugin=DEMO):
    pass
