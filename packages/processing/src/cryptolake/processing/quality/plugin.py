"""The built-in quality plugin: one Soda suite per layer and table.

Silver and Gold tables have hand-written suites (:data:`~.suites.SUITES`); every other table with
a contract in ``cryptolake.core.tables`` (the Bronze tables) gets a suite derived from its
contract. A third party adds suites exactly the same way, from its own package.
"""

from __future__ import annotations

from cryptolake.core import (
    CommandRegistry,
    PluginManifest,
    QualityRegistry,
    QualitySuitePlugin,
    TransformPlugin,
    TransformRegistry,
    hookimpl,
)

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="quality",
    version="0.1.0",
    core_api=">=0.1,<1",
    description="Soda (SodaCL) quality suites gating the Bronze, Silver and Gold layers",
)

IMPLEMENTATION = "cryptolake.processing.quality.suites:SodaTableSuite"
GATED_LAYERS = ("bronze", "silver", "gold")


def suite_identifiers() -> list[tuple[str, str]]:
    """(layer, logical table) of every built-in suite."""
    from cryptolake.core.tables import all_contracts
    from cryptolake.processing.quality.suites import SUITES

    found = {ident: spec.layer for ident, spec in SUITES.items()}
    for ident, contract in all_contracts().items():
        if contract.namespace in GATED_LAYERS and ident not in found:
            found[ident] = contract.namespace
    return sorted((layer, ident) for ident, layer in found.items())


@hookimpl
def cryptolake_register_quality_suites(registry: QualityRegistry) -> None:
    from cryptolake.processing.quality.suites import SUITES, config_model_for

    for layer, ident in suite_identifiers():
        spec = SUITES.get(ident)
        registry.add(
            QualitySuitePlugin(
                name=ident,
                implementation=IMPLEMENTATION,
                config_model=config_model_for(ident),
                capabilities=frozenset({"soda"}),
                description=(spec.description if spec else "contract checks") + f" ({ident})",
                layer=layer,
                tables=(ident,),
                concurrent=True,  # one Soda scan with its own connection; no shared state
            )
        )


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    """The Silver gate as a pipeline step (Gold is gated inside ``dbt.gold``)."""
    from cryptolake.processing.quality.jobs import GateConfig

    silver = tuple(ident for layer, ident in suite_identifiers() if layer == "silver")
    registry.add(
        TransformPlugin(
            name="gate.silver",
            implementation="cryptolake.processing.quality.jobs:LayerGate",
            config_model=GateConfig,
            engine="trino",
            layer="silver",
            inputs=silver,
            outputs=("ops.dq_results", "ops.alerts"),
            schedule="after the Silver transforms",
            description="the Silver quality gate: every Silver suite must pass",
        )
    )


@hookimpl
def cryptolake_register_commands(commands: CommandRegistry) -> None:
    from cryptolake.processing.quality.cli import register

    register(commands)
