"""Small in-code plugins used by the core's unit tests (one per family, plus broken ones)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from cryptolake.core import (
    Column,
    JobContext,
    JobResult,
    ModelPlugin,
    PluginManifest,
    QualitySuitePlugin,
    SourcePlugin,
    TableContract,
    TransformPlugin,
    hookimpl,
)


class EchoConfig(BaseModel):
    rows: int = 3


class EchoJob:
    def __init__(self, config: EchoConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        return JobResult(rows_in=self.config.rows, rows_out=self.config.rows)


class MeanModel:
    def __init__(self, shrink: float = 0.0) -> None:
        self.shrink = shrink

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"shrink": self.shrink}

    def set_params(self, **params: Any) -> MeanModel:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any) -> MeanModel:
        self.mean_ = sum(y) / len(y) * (1 - self.shrink)
        return self

    def predict(self, X: Any) -> list[float]:
        return [self.mean_ for _ in X]


def make_plugin(name: str = "demo", core_api: str = ">=0.1,<1", **extra: Any) -> SimpleNamespace:
    """A plugin object with one entry in every family and a lifecycle recorder."""
    calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def cryptolake_register_sources(registry: Any) -> None:
        registry.add(
            SourcePlugin(
                name=f"{name}.ticks",
                implementation=f"{__name__}:EchoJob",
                config_model=EchoConfig,
                capabilities=frozenset({"batch"}),
                topics=(f"{name}.ticks",),
            )
        )

    @hookimpl
    def cryptolake_register_tables(tables: Any) -> None:
        tables.add(TableContract("silver", "demo", (Column("n", "long"),), key=("n",)))

    @hookimpl
    def cryptolake_register_transforms(registry: Any) -> None:
        registry.add(
            TransformPlugin(
                name=f"{name}.rollup",
                implementation=f"{__name__}:EchoJob",
                config_model=EchoConfig,
                inputs=("bronze.demo",),
                outputs=("silver.demo",),
            )
        )

    @hookimpl
    def cryptolake_register_quality_suites(registry: Any) -> None:
        registry.add(
            QualitySuitePlugin(
                name=f"{name}.checks",
                implementation=f"{__name__}:EchoJob",
                layer="silver",
                tables=("silver.demo",),
            )
        )

    @hookimpl
    def cryptolake_register_models(registry: Any) -> None:
        registry.add(ModelPlugin(name=f"{name}.mean", implementation=f"{__name__}:MeanModel"))

    def recorder(hook: str) -> Any:
        def impl(**kwargs: Any) -> None:
            calls.append((hook, kwargs))

        return impl

    ns = SimpleNamespace(
        CRYPTOLAKE_PLUGIN=PluginManifest(name=name, version="1.0", core_api=core_api),
        cryptolake_register_sources=cryptolake_register_sources,
        cryptolake_register_tables=cryptolake_register_tables,
        cryptolake_register_transforms=cryptolake_register_transforms,
        cryptolake_register_quality_suites=cryptolake_register_quality_suites,
        cryptolake_register_models=cryptolake_register_models,
        calls=calls,
        **extra,
    )
    return ns
