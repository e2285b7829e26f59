from __future__ import annotations

import pytest
from pydantic import BaseModel

from cryptolake.core import PluginError, SourcePlugin, SourceRegistry, TransformPlugin


def _src(**kw: object) -> SourcePlugin:
    base: dict[str, object] = {
        "name": "venue.dataset",
        "implementation": "json:JSONDecoder",
        "capabilities": frozenset({"batch"}),
    }
    base.update(kw)
    return SourcePlugin(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"name": "Venue Dataset"}, "dotted lower-case"),
        ({"implementation": "json.JSONDecoder"}, "package.module:attribute"),
        ({"capabilities": frozenset({"teleport"})}, "unknown capabilities"),
        ({"config_model": dict}, "pydantic model"),
    ],
)
def test_invalid_entries_are_refused(kw: dict[str, object], message: str) -> None:
    reg = SourceRegistry()
    reg.current_plugin = "p"
    with pytest.raises(PluginError, match=message):
        reg.add(_src(**kw))


def test_wrong_family_is_refused() -> None:
    reg = SourceRegistry()
    with pytest.raises(PluginError, match="accepts SourcePlugin, got TransformPlugin"):
        reg.add(TransformPlugin(name="a.b", implementation="json:loads"))  # type: ignore[arg-type]


def test_lazy_load_and_its_error() -> None:
    import json

    reg = SourceRegistry()
    reg.current_plugin = "p"
    ok = reg.add(_src())
    assert ok.load() is json.JSONDecoder
    missing = reg.add(_src(name="venue.missing", implementation="no_such_module_xyz:Thing"))
    with pytest.raises(PluginError, match="cannot import implementation 'no_such_module_xyz:Thing'"):
        missing.load()


def test_config_model_validation() -> None:
    class Cfg(BaseModel):
        symbols: list[str]

    entry = _src(config_model=Cfg)
    assert entry.configure({"symbols": ["BTCUSDT"]}).symbols == ["BTCUSDT"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="symbols"):
        entry.configure({})


def test_get_unknown_names_the_known_ones() -> None:
    reg = SourceRegistry()
    reg.add(_src())
    with pytest.raises(PluginError, match=r"known: venue.dataset"):
        reg.get("nope")
