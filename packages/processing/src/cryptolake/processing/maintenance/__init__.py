"""Iceberg table maintenance: compaction, snapshot expiry, orphan-file removal, with a report."""

from __future__ import annotations

from cryptolake.processing.maintenance.iceberg import (
    IcebergMaintenance,
    MaintenanceConfig,
    MaintenanceFailed,
    MaintenanceReport,
    TableReport,
    TableStats,
    list_tables,
    run_maintenance,
)

__all__ = [
    "IcebergMaintenance",
    "MaintenanceConfig",
    "MaintenanceFailed",
    "MaintenanceReport",
    "TableReport",
    "TableStats",
    "list_tables",
    "run_maintenance",
]
