"""Conformance test classes every plugin runs with one line of code."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any, ClassVar

import pytest

from cryptolake.core._version import CORE_API_VERSION
from cryptolake.core.manager import MANIFEST_ATTR, PluginHost, build_plugin_manager
from cryptolake.core.registry import (
    Entry,
    ModelPlugin,
    PluginManifest,
    QualitySuitePlugin,
    SourcePlugin,
    TransformPlugin,
)
from cryptolake.core.settings import Settings

_TOPIC = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
LAYERS = ("bronze", "silver", "gold", "ops", "ml")


class PluginConformance:
    """Checks every plugin passes, whatever its family: a valid manifest compatible with this
    core; it loads in a strict host with no error and registers at least one entry of its family;
    its entries are valid and carry its name; each config model accepts ``example_config``; each
    implementation imports, is a class with ``run(ctx)`` and builds from its config.

    Subclass with ``plugin=`` (the plugin module, object, or its import path). Set
    ``example_config`` (one dict for all entries, or a dict of entry name → dict) when an entry's
    config model has required fields.
    """

    __test__ = False
    family: ClassVar[str] = ""
    entry_type: ClassVar[type[Entry]] = Entry
    registry_attr: ClassVar[str] = ""
    plugin: ClassVar[Any] = None
    example_config: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, plugin: Any = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if plugin is not None:
            cls.plugin = plugin
            cls.__test__ = True

    # -- helpers -------------------------------------------------------------------------------

    @classmethod
    def plugin_object(cls) -> Any:
        if isinstance(cls.plugin, str):
            return importlib.import_module(cls.plugin)
        return cls.plugin

    @pytest.fixture
    def conformance_host(self, tmp_path: Any) -> PluginHost:
        settings = Settings(home=tmp_path)
        return build_plugin_manager(
            settings, autoload=False, strict=True, plugins=[self.plugin_object()]
        )

    def entries(self, host: PluginHost) -> list[Entry]:
        registry = getattr(host, self.registry_attr)
        return list(registry)

    def config_for(self, entry: Entry) -> dict[str, Any]:
        cfg = self.example_config
        if entry.name in cfg and isinstance(cfg[entry.name], dict):
            return dict(cfg[entry.name])
        return dict(cfg)

    # -- the checks ----------------------------------------------------------------------------

    def test_manifest(self) -> None:
        manifest = getattr(self.plugin_object(), MANIFEST_ATTR, None)
        assert isinstance(manifest, PluginManifest), f"{MANIFEST_ATTR} must be a PluginManifest"
        assert re.match(r"^[a-z0-9_][a-z0-9_.-]*$", manifest.name), manifest.name
        assert manifest.version, "manifest version must not be empty"
        assert manifest.supports(CORE_API_VERSION), (
            f"{manifest.name} declares core_api {manifest.core_api!r}, core is {CORE_API_VERSION}"
        )

    def test_loads_in_a_strict_host(self, conformance_host: PluginHost) -> None:
        conformance_host.load_registries()
        assert not conformance_host.errors()
        assert self.entries(conformance_host), (
            f"the plugin registers no {self.family}; did you implement the registration hook?"
        )

    def test_entries_are_valid(self, conformance_host: PluginHost) -> None:
        for entry in self.entries(conformance_host):
            assert isinstance(entry, self.entry_type)
            entry.validate()
            manifest = getattr(self.plugin_object(), MANIFEST_ATTR)
            assert entry.plugin == manifest.name

    def test_config_model_validates_example(self, conformance_host: PluginHost) -> None:
        for entry in self.entries(conformance_host):
            entry.configure(self.config_for(entry))

    def test_implementation_imports(self, conformance_host: PluginHost) -> None:
        for entry in self.entries(conformance_host):
            impl = entry.load()
            self.check_implementation(entry, impl)

    def check_implementation(self, entry: Entry, impl: Any) -> None:
        assert inspect.isclass(impl), f"{entry.implementation} must name a class"
        assert callable(getattr(impl, "run", None)), f"{entry.implementation} needs run(ctx)"
        impl(entry.configure(self.config_for(entry)))


class SourceConformance(PluginConformance):
    __test__ = False
    family = "source"
    entry_type = SourcePlugin
    registry_attr = "sources"

    def test_topics_and_tables_are_declared(self, conformance_host: PluginHost) -> None:
        """Topic names are valid, every Bronze table written has a contract (the core's or one
        the plugin declares in ``cryptolake_register_tables``), capabilities are declared."""
        contracts = conformance_host.tables
        for entry in self.entries(conformance_host):
            assert isinstance(entry, SourcePlugin)
            for topic in entry.topics:
                assert _TOPIC.match(topic), f"bad topic name {topic!r}"
            for table in entry.bronze_tables:
                assert table in contracts, f"{entry.name} writes {table}, which has no contract"
            assert entry.capabilities, f"{entry.name} declares no capabilities"


class TransformConformance(PluginConformance):
    __test__ = False
    family = "transform"
    entry_type = TransformPlugin
    registry_attr = "transforms"

    #: Outputs must have a table contract (the core's, or the plugin's own through
    #: ``cryptolake_register_tables``). Turn off only for outputs no contract can describe.
    outputs_need_contracts: ClassVar[bool] = True

    def test_inputs_and_outputs(self, conformance_host: PluginHost) -> None:
        """Outputs are declared, every table is in a layer, every output has a contract."""
        for entry in self.entries(conformance_host):
            assert isinstance(entry, TransformPlugin)
            assert entry.outputs, f"{entry.name} declares no outputs"
            for table in (*entry.inputs, *entry.outputs):
                assert table.split(".")[0] in LAYERS, f"{entry.name}: {table} is in no layer"
            if self.outputs_need_contracts:
                for table in entry.outputs:
                    assert table in conformance_host.tables, (
                        f"{entry.name} writes {table}, which has no contract: declare it in "
                        f"cryptolake_register_tables"
                    )


class QualityConformance(PluginConformance):
    __test__ = False
    family = "quality"
    entry_type = QualitySuitePlugin
    registry_attr = "quality"

    def test_layer_and_tables(self, conformance_host: PluginHost) -> None:
        for entry in self.entries(conformance_host):
            assert isinstance(entry, QualitySuitePlugin)
            assert entry.layer in LAYERS, f"{entry.name}: unknown layer {entry.layer!r}"
            assert entry.tables, f"{entry.name} checks no table"


class ModelConformance(PluginConformance):
    __test__ = False
    family = "model"
    entry_type = ModelPlugin
    registry_attr = "models"

    def check_implementation(self, entry: Entry, impl: Any) -> None:
        assert inspect.isclass(impl), f"{entry.implementation} must name an estimator class"
        est = impl(**self.config_for(entry))
        for method in ("fit", "predict", "get_params", "set_params"):
            assert callable(getattr(est, method, None)), f"{impl.__name__} lacks {method}()"
        params = est.get_params()
        sig = inspect.signature(impl.__init__)
        expected = {n for n in sig.parameters if n != "self"}
        assert set(params) == expected, "get_params() must return exactly the __init__ parameters"
