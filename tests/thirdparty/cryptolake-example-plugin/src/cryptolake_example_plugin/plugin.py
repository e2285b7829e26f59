"""Registers one entry per family and records every lifecycle event it sees.

Events are appended as JSON lines to the file named by ``EXAMPLE_PLUGIN_EVENTS`` (when set), so a
test in another process can see that the hooks were called.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel

from cryptolake.core import (
    JobContext,
    JobResult,
    ModelPlugin,
    PluginManifest,
    QualitySuitePlugin,
    SourcePlugin,
    TransformPlugin,
    hookimpl,
)

CRYPTOLAKE_PLUGIN = PluginManifest(name="example", version="1.2.0", core_api=">=0.1,<1")

IMPL = "cryptolake_example_plugin.jobs"


class TicksConfig(BaseModel):
    count: int = 3


def _record(event: str, **fields: Any) -> None:
    path = os.environ.get("EXAMPLE_PLUGIN_EVENTS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, **fields}, default=str) + "\n")


@hookimpl
def cryptolake_register_sources(registry: Any) -> None:
    registry.add(
        SourcePlugin(
            name="example.ticks",
            implementation=f"{IMPL}:CountingSource",
            config_model=TicksConfig,
            capabilities=frozenset({"batch"}),
            topics=("example.ticks",),
            description="Counts up to `count` ticks.",
        )
    )


@hookimpl
def cryptolake_register_transforms(registry: Any) -> None:
    registry.add(
        TransformPlugin(
            name="example.double",
            implementation=f"{IMPL}:Doubler",
            engine="python",
            inputs=("bronze.example_ticks",),
            outputs=("silver.example_ticks",),
        )
    )


@hookimpl
def cryptolake_register_quality_suites(registry: Any) -> None:
    registry.add(
        QualitySuitePlugin(
            name="example.positive",
            implementation=f"{IMPL}:PositiveSuite",
            layer="silver",
            tables=("silver.example_ticks",),
            capabilities=frozenset({"python"}),
        )
    )


@hookimpl
def cryptolake_register_models(registry: Any) -> None:
    registry.add(ModelPlugin(name="example.last_value", implementation=f"{IMPL}:LastValue"))
    # a direction classifier cryptolake-ml trains, evaluates and may promote like its own
    registry.add(ModelPlugin(name="example.nearest_mean", implementation=f"{IMPL}:NearestMean",
                             capabilities=frozenset({"classification", "probabilistic"}),
                             target="direction"))


@hookimpl
def cryptolake_before_job(job: JobContext) -> None:
    _record("before_job", name=job.name, run_id=job.run_id)


@hookimpl
def cryptolake_after_job(job: JobContext, result: JobResult) -> None:
    _record("after_job", name=job.name, rows_out=result.rows_out)


@hookimpl
def cryptolake_register_api_fields(registry: Any) -> None:
    """The ticks table as a GraphQL type and root field (``exampleTicks``); the table can be
    pointed elsewhere with ``EXAMPLE_PLUGIN_API_TABLE`` (the API tests use a private namespace)."""
    registry.add_table(
        "exampleTicks",
        table=os.environ.get("EXAMPLE_PLUGIN_API_TABLE", "silver.example_ticks"),
        type_name="ExampleTick",
        columns={"tick": "Int", "value": "Float", "at": "DateTime"},
        order_by=("tick",),
        description="Ticks counted by the example source.",
    )
