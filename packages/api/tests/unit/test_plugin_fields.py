"""cryptolake_register_api_fields: a plugin adds a type and a root field; bad ones are refused."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from cryptolake.api.schema import build_schema
from cryptolake.api.settings import ApiSettings
from cryptolake.core import PluginError, PluginManifest, hookimpl


def _plugin(**fields: Any) -> Any:
    @hookimpl
    def cryptolake_register_api_fields(registry: Any) -> None:
        registry.add_table(**fields)

    return SimpleNamespace(CRYPTOLAKE_PLUGIN=PluginManifest(name="tickfields", version="1", core_api=">=0.1,<1"),
                           cryptolake_register_api_fields=cryptolake_register_api_fields)


def test_a_plugin_table_becomes_a_type_and_a_root_field(make_plugin_host: Callable[..., Any]) -> None:
    host = make_plugin_host(plugins=[_plugin(name="exampleTicks", table="silver.example_ticks",
                                             type_name="ExampleTick",
                                             columns={"tick": "Int", "value": "Float", "at": "DateTime"},
                                             order_by=("tick",), description="ticks")])
    sdl = build_schema(host, ApiSettings()).as_str()
    assert "type ExampleTick implements LakehouseRow" in sdl
    assert "exampleTicks(first: Int = null, after: String = null, asOf: AsOf = null): ExampleTickConnection!" in sdl


@pytest.mark.parametrize("bad", [
    {"name": "candles"},                       # a built-in field's name
    {"table": "silver.x; DROP TABLE y"},       # not namespace.table
    {"columns": {"tick": "Json"}},             # unknown scalar
    {"order_by": ("nope",)},                   # not a column
])
def test_bad_plugin_fields_are_refused(make_plugin_host: Callable[..., Any], bad: dict[str, Any]) -> None:
    from cryptolake.api.plugins import ApiRegistry

    fields = {"name": "exampleTicks", "table": "silver.example_ticks", "type_name": "ExampleTick",
              "columns": {"tick": "Int"}, "order_by": ("tick",), **bad}
    with pytest.raises(PluginError):
        ApiRegistry(reserved=frozenset({"candles"})).add_table(**fields)
    # through the host: the plugin is logged and left out, the schema still builds
    host = make_plugin_host(plugins=[_plugin(**fields)], strict=True)
    assert "ExampleTick" not in build_schema(host, ApiSettings()).as_str()
