"""The dbt plugin: Gold built by the dbt-trino project in ``transform/`` as a transform.

``cryptolake transform run dbt.gold`` (or ``cryptolake transform dbt build``) runs the models
into the audit schema, runs dbt's tests and the Gold quality gate on it, and publishes the marts
into ``gold`` only when everything passed (write-audit-publish).
"""

from __future__ import annotations

from cryptolake.core import (
    CommandRegistry,
    PluginManifest,
    TransformPlugin,
    TransformRegistry,
    hookimpl,
)

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="dbt",
    version="0.1.0",
    core_api=">=0.1,<1",
    description="Gold tables from the dbt-trino project, published through the Gold quality gate",
)


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    from cryptolake.processing.dbt.config import MARTS, DbtBuildConfig

    registry.add(
        TransformPlugin(
            name="dbt.gold",
            implementation="cryptolake.processing.dbt:DbtGoldJob",
            config_model=DbtBuildConfig,
            capabilities=frozenset({"incremental", "idempotent"}),
            description="dbt build of the Gold marts, audited and published (write-audit-publish)",
            engine="dbt",
            inputs=("silver.ohlcv_1h", "silver.market_daily", "silver.fear_greed"),
            outputs=tuple(f"gold.{m}" for m in MARTS),
            schedule="hourly",
            layer="gold",
        )
    )


@hookimpl
def cryptolake_register_commands(commands: CommandRegistry) -> None:
    from cryptolake.processing.dbt.cli import register

    register(commands)
