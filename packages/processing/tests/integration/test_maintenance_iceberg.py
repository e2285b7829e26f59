"""Iceberg maintenance on the real stack: small files compacted, snapshots expired, orphans removed,
rows unchanged, and a report of files and bytes before and after."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest

from cryptolake.core import JobContext, build_plugin_manager, run_job
from cryptolake.core.clients import load_catalog, query, s3_client, spark_session
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.processing.maintenance import MaintenanceConfig, run_maintenance

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
def test_maintenance_compacts_expires_and_removes_orphans(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    contract = get_contract("silver.fear_greed")
    ensure_table(load_catalog(settings), contract, namespace=ns)
    ident = f"{settings.lakehouse.catalog}.{ns}.fear_greed"
    session = spark_session("cryptolake-tests", settings)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for i in range(6):  # six commits, six small files in the same year partition
        day = start + timedelta(days=i)
        session.createDataFrame(
            [(day.date(), 10 + i, "Fear", datetime.now(UTC))],
            "date DATE, value INT, classification STRING, updated_at TIMESTAMP",
        ).writeTo(ident).append()
    location = load_catalog(settings).load_table(f"{ns}.fear_greed").location()
    url = urlparse(location)
    orphan_key = url.path.lstrip("/") + "/data/orphan-left-by-a-failed-write.parquet"
    s3 = s3_client(settings)
    s3.put_object(Bucket=url.netloc, Key=orphan_key, Body=b"not referenced by any snapshot")
    time.sleep(2)
    rows_before = query(f"SELECT count(*), sum(value) FROM {ns}.fear_greed", settings=settings)

    config = MaintenanceConfig(min_input_files=2, retention_hours=0, retain_last=1,
                               orphan_min_age_hours=0)
    report = run_maintenance([f"{ns}.fear_greed"], config, settings)
    (t,) = report.tables
    assert t.error is None
    assert (t.before.data_files, t.before.snapshots) == (6, 6)
    assert t.rewritten_files == 6 and t.added_files == 1
    assert t.after.data_files == 1 and t.after.snapshots == 1
    assert t.orphan_files == 1
    assert t.after.stored_files < t.before.stored_files
    assert t.after.stored_bytes < t.before.stored_bytes
    listed = s3.list_objects_v2(Bucket=url.netloc, Prefix=orphan_key).get("KeyCount", 0)
    assert listed == 0
    # the data did not change, and Trino reads the compacted table
    assert query(f"SELECT count(*), sum(value) FROM {ns}.fear_greed",
                 settings=settings) == rows_before
    text = report.render()
    assert f"{ns}.fear_greed" in text and "6 → 1" in text

    # again through the transform entry, with the production orphan guard (72 h, the SQL
    # procedure) as a dry run: nothing left to do, same figures
    host = build_plugin_manager(settings, autoload=True, strict=True)
    entry = host.transforms.get("maintenance.iceberg")
    job = entry.load()(entry.configure({**config.model_dump(), "orphan_min_age_hours": 72,
                                        "dry_run": True, "tables": [f"{ns}.fear_greed"]}))
    result = run_job(JobContext(kind="transform", name=entry.name, settings=settings, host=host),
                     job.run)
    again = result.details["report"]["tables"][0]
    assert again["rewritten_files"] == 0 and again["orphan_files"] == 0
    assert again["after"]["data_files"] == 1
