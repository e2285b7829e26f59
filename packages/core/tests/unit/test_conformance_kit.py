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


def test_a_transform_output_without_a_contract_fails_conformance(make_plugin_host: object) -> None:
    import pytest

    from cryptolake.core import PluginManifest, TransformPlugin, hookimpl

    class NoContract:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="nocontract", version="1")

        @hookimpl
        def cryptolake_register_transforms(self, registry: object) -> None:
            registry.add(TransformPlugin(name="nocontract.t", implementation="m:C",  # type: ignore[attr-defined]
                                         outputs=("silver.undeclared",)))

    host = make_plugin_host([NoContract()])  # type: ignore[operator]
    with pytest.raises(AssertionError, match="silver.undeclared, which has no contract"):
        TransformConformance().test_inputs_and_outputs(host)
