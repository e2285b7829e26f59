from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cryptolake.core import ConfigError, PluginManifest, SourcePlugin, TransformPlugin, hookimpl
from cryptolake.core.pipeline import daily_pipeline, maintenance_pipeline, order_transforms


def _t(name: str, inputs: tuple[str, ...], outputs: tuple[str, ...], **kw: Any) -> TransformPlugin:
    return TransformPlugin(name=name, implementation="x:y", inputs=inputs, outputs=outputs, **kw)


def test_transforms_run_after_their_producers() -> None:
    ts = [
        _t("c.anomalies", ("silver.ohlcv_1h",), ("silver.anomalies",)),
        _t("b.hourly", ("silver.ohlcv_1m",), ("silver.ohlcv_1h",)),
        _t("a.minute", ("bronze.trades",), ("silver.ohlcv_1m",)),
        _t("a.fng", ("bronze.fng",), ("silver.fear_greed",)),
    ]
    assert [t.name for t in order_transforms(ts)] == ["a.fng", "a.minute", "b.hourly", "c.anomalies"]


def test_a_cycle_is_a_configuration_error() -> None:
    ts = [_t("x", ("silver.b",), ("silver.a",)), _t("y", ("silver.a",), ("silver.b",))]
    with pytest.raises(ConfigError, match="cycle"):
        order_transforms(ts)


def _pipeline_plugin() -> SimpleNamespace:
    @hookimpl
    def cryptolake_register_sources(registry: Any) -> None:
        registry.add(SourcePlugin(name="rec.replay", implementation="x:y",
                                  capabilities=frozenset({"replay"})))
        registry.add(SourcePlugin(name="api.daily", implementation="x:y",
                                  capabilities=frozenset({"batch"})))
        registry.add(SourcePlugin(name="ws.live", implementation="x:y",
                                  capabilities=frozenset({"stream"})))

    @hookimpl
    def cryptolake_register_transforms(registry: Any) -> None:
        registry.add(_t("gold.build", ("silver.a",), ("gold.a",), layer="gold", engine="dbt"))
        registry.add(_t("silver.a", ("bronze.a",), ("silver.a",), layer="silver", engine="spark"))
        registry.add(_t("stream.bronze", ("kafka:a",), ("bronze.a",), layer="bronze",
                        capabilities=frozenset({"streaming"})))
        registry.add(_t("gate.silver", ("silver.a",), ("ops.dq_results",), layer="silver",
                        engine="trino"))
        registry.add(_t("maintenance.all", ("silver.a",), ("silver.a",), layer="maintenance"))

    return SimpleNamespace(
        CRYPTOLAKE_PLUGIN=PluginManifest(name="pipe", version="1"),
        cryptolake_register_sources=cryptolake_register_sources,
        cryptolake_register_transforms=cryptolake_register_transforms,
    )


def test_daily_pipeline_order(make_plugin_host: Any) -> None:
    host = make_plugin_host([_pipeline_plugin()])
    replay = daily_pipeline(host, source="replay")
    assert [s.label for s in replay] == [
        "ingest:rec.replay", "transform:stream.bronze", "transform:silver.a", "gate:gate.silver",
        "transform:gold.build",
    ]
    assert [s.heavy for s in replay] == [False, False, True, False, True]
    live = daily_pipeline(host, source="live")
    assert live[0].label == "ingest:api.daily"
    assert [s.name for s in maintenance_pipeline(host)] == ["maintenance.all"]
    with pytest.raises(ConfigError, match="unknown pipeline source"):
        daily_pipeline(host, source="carrier-pigeon")
