"""The built-in Iceberg maintenance transform, registered like any third-party plugin."""

from __future__ import annotations

from cryptolake.core import PluginManifest, TransformPlugin, TransformRegistry, hookimpl
from cryptolake.processing import __version__
from cryptolake.processing.maintenance.iceberg import MaintenanceConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="cryptolake.maintenance",
    version=__version__,
    core_api=">=0.1,<1",
    description="Iceberg compaction, snapshot expiry and orphan-file removal for every table",
)

ENTRY = TransformPlugin(
    name="maintenance.iceberg",
    implementation="cryptolake.processing.maintenance.iceberg:IcebergMaintenance",
    config_model=MaintenanceConfig,
    capabilities=frozenset({"idempotent"}),
    engine="spark",
    inputs=("*",),
    outputs=("*",),
    schedule="daily",
    layer="maintenance",
    description="compact small files, expire old snapshots, remove orphan files; report before/after",
)


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    registry.add(ENTRY)
