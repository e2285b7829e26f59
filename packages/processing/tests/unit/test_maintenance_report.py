"""Maintenance configuration and the before/after report, without Spark."""

from __future__ import annotations

import pytest

from cryptolake.core import ConfigError, build_plugin_manager
from cryptolake.core.settings import Settings
from cryptolake.processing.maintenance import (
    MaintenanceConfig,
    MaintenanceReport,
    TableReport,
    TableStats,
    run_maintenance,
)


def test_report_totals_and_text() -> None:
    report = MaintenanceReport([
        TableReport("silver.trades", TableStats(12, 12_000_000, 9, 40, 15_000_000),
                    TableStats(2, 11_500_000, 5, 14, 12_000_000), rewritten_files=12,
                    added_files=2, expired_snapshots=4, orphan_files=1),
        TableReport("bronze.rejects", TableStats(1, 1000, 1, 3, 5000),
                    TableStats(1, 1000, 1, 3, 5000), error="RuntimeError: boom"),
    ])
    totals = report.totals()
    assert totals["data_files_before"] == 13 and totals["data_files_after"] == 3
    assert totals["stored_bytes_before"] == 15_005_000
    text = report.render()
    assert "silver.trades" in text and "12 → 2" in text and "rewrote 12→2" in text
    assert "ERROR: RuntimeError: boom" in text
    assert report.as_dict()["tables"][0]["after"]["snapshots"] == 5


def test_defaults_are_safe_for_writes_in_flight() -> None:
    cfg = MaintenanceConfig()
    assert cfg.retention_hours == 168 and cfg.retain_last >= 1
    assert cfg.orphan_min_age_hours >= 24
    with pytest.raises(ValueError):
        MaintenanceConfig(retain_last=0)


def test_bad_table_names_fail_before_spark_starts(cryptolake_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="must read 'namespace.table'"):
        run_maintenance(["trades"], settings=cryptolake_settings)


@pytest.mark.installed  # discovers the built-in plugins through their entry points
def test_maintenance_is_a_registered_transform(cryptolake_settings: Settings) -> None:
    host = build_plugin_manager(cryptolake_settings, autoload=True, strict=True)
    entry = host.transforms.get("maintenance.iceberg")
    assert entry.engine == "spark" and entry.config_model is MaintenanceConfig


def test_a_failing_table_fails_the_job(cryptolake_settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core import JobContext
    from cryptolake.processing.maintenance import IcebergMaintenance, MaintenanceFailed, iceberg

    report = MaintenanceReport([
        TableReport("silver.trades", TableStats(), TableStats()),
        TableReport("gold_audit.fact_price_hourly", TableStats(), TableStats(),
                    error="ValidationException: boom"),
    ])
    monkeypatch.setattr(iceberg, "run_maintenance", lambda *a, **k: report)
    monkeypatch.setattr("cryptolake.core.clients.spark_session", lambda *a, **k: None)
    host = build_plugin_manager(cryptolake_settings, autoload=False)
    ctx = JobContext(kind="transform", name="maintenance.iceberg", settings=cryptolake_settings,
                     host=host)
    with pytest.raises(MaintenanceFailed, match=r"1 of 2 table\(s\): gold_audit.fact_price_hourly"):
        IcebergMaintenance(MaintenanceConfig()).run(ctx)
    assert [t.table for t in report.failed] == ["gold_audit.fact_price_hourly"]


def test_the_dbt_audit_schema_is_maintained_too(cryptolake_settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.processing.maintenance import iceberg, list_tables

    class Catalog:
        def list_namespaces(self) -> list[tuple[str, ...]]:
            return [("silver",), ("gold",), ("gold_audit",)]

        def list_tables(self, ns: str) -> list[tuple[str, ...]]:
            return [(ns, "t")]

    monkeypatch.setattr("cryptolake.core.clients.load_catalog", lambda settings: Catalog())
    cfg = MaintenanceConfig()
    assert "gold_audit" in cfg.audit_namespaces
    assert iceberg.AUDIT_SCHEMA == __import__("cryptolake.processing.dbt", fromlist=["x"]).AUDIT_SCHEMA
    tables = list_tables(cryptolake_settings, cfg.namespaces, extra=cfg.audit_namespaces)
    assert tables == ["gold.t", "gold_audit.t", "silver.t"]
