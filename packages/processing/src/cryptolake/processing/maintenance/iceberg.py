"""Iceberg table maintenance: compaction, snapshot expiry, orphan-file removal, with a report.

For each table (every table of the lakehouse namespaces, or the ones named):

1. **compaction** — ``rewrite_data_files`` (bin-pack small files towards ``target_file_size_mb``;
   a partition is rewritten when it holds at least ``min_input_files`` files) and
   ``rewrite_manifests``;
2. **snapshot expiry** — ``expire_snapshots`` older than ``retention_hours``, always keeping the
   last ``retain_last`` (time travel and the stream's exactly-once markers live in them);
3. **orphan-file removal** — ``remove_orphan_files`` older than ``orphan_min_age_hours`` (files a
   failed write left behind; the age guard keeps files of writes still in flight).

Before and after, it counts the data files and bytes of the current snapshot, the snapshots, and
every object stored under the table's location — what expiry and orphan removal give back.

Run :func:`run_maintenance` (what ``cryptolake maintenance run [--table …]`` calls) or the
transform ``maintenance.iceberg``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from cryptolake.core import JobContext, JobResult
from cryptolake.core.errors import ConfigError, TerminalError
from cryptolake.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: The dbt audit schema (``cryptolake.processing.dbt.AUDIT_SCHEMA``), without importing dbt.
AUDIT_SCHEMA = "gold_audit"


class MaintenanceConfig(BaseModel):
    tables: list[str] = Field(
        default_factory=list,
        description="'namespace.table' names; empty = every table of the lakehouse namespaces",
    )
    namespaces: list[str] | None = Field(
        None, description="namespaces scanned when no table is named (default: the settings')"
    )
    audit_namespaces: list[str] = Field(
        default_factory=lambda: [AUDIT_SCHEMA],
        description="write-audit-publish staging namespaces also maintained when no table is "
        "named (dbt's audit schema: every Gold build adds snapshots there)",
    )
    compact: bool = True
    target_file_size_mb: int = Field(128, ge=1)
    min_input_files: int = Field(5, ge=2, description="files in a partition before compacting it")
    expire: bool = True
    retention_hours: float = Field(168.0, ge=0, description="keep snapshots this recent")
    retain_last: int = Field(5, ge=1, description="always keep this many snapshots")
    remove_orphans: bool = True
    orphan_min_age_hours: float = Field(
        72.0, ge=0, description="only files older than this can be orphans (writes in flight); "
        "below 24 only safe with no concurrent writer"
    )
    dry_run: bool = Field(False, description="report what orphan removal would delete, keep it")


@dataclass
class TableStats:
    data_files: int = 0
    data_bytes: int = 0
    snapshots: int = 0
    stored_files: int = 0
    stored_bytes: int = 0


@dataclass
class TableReport:
    table: str
    before: TableStats
    after: TableStats = field(default_factory=TableStats)
    rewritten_files: int = 0
    added_files: int = 0
    expired_snapshots: int = 0
    deleted_files: int = 0
    orphan_files: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class MaintenanceReport:
    tables: list[TableReport] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("data_files", "data_bytes", "snapshots", "stored_files", "stored_bytes")
        out: dict[str, int] = {}
        for t in self.tables:
            for k in keys:
                out[f"{k}_before"] = out.get(f"{k}_before", 0) + getattr(t.before, k)
                out[f"{k}_after"] = out.get(f"{k}_after", 0) + getattr(t.after, k)
        return out

    @property
    def failed(self) -> list[TableReport]:
        """The tables whose maintenance failed."""
        return [t for t in self.tables if t.error]

    def as_dict(self) -> dict[str, Any]:
        return {"tables": [asdict(t) for t in self.tables], "totals": self.totals(),
                "failed": [t.table for t in self.failed]}

    def render(self) -> str:
        """A plain-text table: one line per table, files and bytes before → after."""
        head = (f"{'table':<34} {'data files':>15} {'data MB':>17} {'snapshots':>11} "
                f"{'stored files':>15} {'stored MB':>17}  actions")
        lines = [head, "-" * len(head)]
        mb = lambda b: f"{b / 1e6:.2f}"  # noqa: E731
        for t in self.tables:
            b, a = t.before, t.after
            actions = (f"rewrote {t.rewritten_files}→{t.added_files}, expired "
                       f"{t.expired_snapshots} snap, orphans {t.orphan_files}")
            if t.error:
                actions = f"ERROR: {t.error}"
            lines.append(
                f"{t.table:<34} {b.data_files:>6} → {a.data_files:<6} "
                f"{mb(b.data_bytes):>7} → {mb(a.data_bytes):<7} {b.snapshots:>4} → {a.snapshots:<4} "
                f"{b.stored_files:>6} → {a.stored_files:<6} {mb(b.stored_bytes):>7} → "
                f"{mb(a.stored_bytes):<7}  {actions}"
            )
        return "\n".join(lines)


def list_tables(
    settings: Settings, namespaces: list[str] | None = None, *, extra: list[str] | None = None
) -> list[str]:
    """Every ``namespace.table`` of the lakehouse namespaces (plus ``extra`` ones, such as the dbt
    audit schema) that exists in the catalog. Views are not tables and are left out."""
    from cryptolake.core.clients import load_catalog

    catalog = load_catalog(settings)
    wanted = list(dict.fromkeys([*(namespaces or settings.lakehouse.namespaces), *(extra or [])]))
    existing = {".".join(ns) for ns in catalog.list_namespaces()}
    out: list[str] = []
    for ns in wanted:
        if ns not in existing:
            continue
        out.extend(".".join(ident) for ident in catalog.list_tables(ns))
    return sorted(out)


def _stored(settings: Settings, location: str) -> tuple[int, int]:
    """Objects and bytes under a table location (``s3://bucket/prefix``)."""
    from cryptolake.core.clients import s3_client

    url = urlparse(location)
    prefix = url.path.lstrip("/").rstrip("/") + "/"
    client = s3_client(settings)
    files = size = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=url.netloc, Prefix=prefix):
        for obj in page.get("Contents", []):
            files += 1
            size += int(obj["Size"])
    return files, size


def table_stats(session: SparkSession, settings: Settings, ident: str) -> TableStats:
    files = session.sql(
        f"SELECT count(*), coalesce(sum(file_size_in_bytes), 0) FROM {ident}.files"
    ).collect()[0]
    snaps = session.sql(f"SELECT count(*) FROM {ident}.snapshots").collect()[0]
    from cryptolake.core.clients import load_catalog

    location = load_catalog(settings).load_table(ident.split(".", 1)[1]).location()
    stored = _stored(settings, location)
    return TableStats(
        data_files=int(files[0]), data_bytes=int(files[1]), snapshots=int(snaps[0]),
        stored_files=stored[0], stored_bytes=stored[1],
    )


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def maintain_table(
    session: SparkSession, settings: Settings, table: str, config: MaintenanceConfig
) -> TableReport:
    cat = settings.lakehouse.catalog
    ident = f"{cat}.{table}"
    started = time.monotonic()
    report = TableReport(table=table, before=table_stats(session, settings, ident))
    session.sql(f"REFRESH TABLE {ident}")
    try:
        if config.compact:
            row = session.sql(
                f"CALL {cat}.system.rewrite_data_files(table => '{table}', options => map("
                f"'target-file-size-bytes', '{config.target_file_size_mb * 1024 * 1024}', "
                f"'min-input-files', '{config.min_input_files}', "
                "'partial-progress.enabled', 'true'))"
            ).first()
            if row is not None:
                report.rewritten_files = int(row["rewritten_data_files_count"])
                report.added_files = int(row["added_data_files_count"])
            session.sql(f"CALL {cat}.system.rewrite_manifests(table => '{table}')").collect()
        if config.expire:
            older = datetime.now(UTC) - timedelta(hours=config.retention_hours)
            row = session.sql(
                f"CALL {cat}.system.expire_snapshots(table => '{table}', "
                f"older_than => TIMESTAMP '{_ts(older)}', retain_last => {config.retain_last})"
            ).first()
            if row is not None:
                report.deleted_files = sum(
                    int(row[c]) for c in row.asDict() if c.startswith("deleted_")
                    and c.endswith("_count")
                )
                report.expired_snapshots = _expired(session, ident, report.before.snapshots)
        if config.remove_orphans:
            older = datetime.now(UTC) - timedelta(hours=config.orphan_min_age_hours)
            orphans = _remove_orphans(session, ident, table, older, config)
            report.orphan_files = len(orphans)
            for path in orphans[:5]:
                log.info("%s: orphan file %s%s", table, path,
                         " (dry run, kept)" if config.dry_run else " removed")
    except Exception as exc:  # one table's failure must not stop the others
        java = getattr(exc, "java_exception", None)
        cause = str(java) if java is not None else f"{type(exc).__name__}: {exc}"
        report.error = cause.splitlines()[0][:400]
        log.error("maintenance of %s failed: %s", table, report.error)
    session.sql(f"REFRESH TABLE {ident}")
    report.after = table_stats(session, settings, ident)
    report.seconds = time.monotonic() - started
    return report


def _remove_orphans(session: SparkSession, ident: str, table: str, older: datetime,
                    config: MaintenanceConfig) -> list[str]:
    """Orphan files older than ``older``: the SQL procedure for the usual ≥ 24 h guard, Iceberg's
    action API below it (the procedure refuses shorter intervals; only safe with no concurrent
    writer, e.g. a test table or a stopped pipeline)."""
    cat = ident.split(".", 1)[0]
    if config.orphan_min_age_hours >= 24:
        rows = session.sql(
            f"CALL {cat}.system.remove_orphan_files(table => '{table}', "
            f"older_than => TIMESTAMP '{_ts(older)}', prefix_listing => true, "
            f"dry_run => {'true' if config.dry_run else 'false'})"
        ).collect()
        return [str(r[0]) for r in rows]
    if config.dry_run:
        raise ConfigError("maintenance: dry_run needs orphan_min_age_hours >= 24")
    jvm: Any = session._jvm  # type: ignore[attr-defined]
    jspark: Any = session._jsparkSession  # type: ignore[attr-defined]
    jtable = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(jspark, ident)
    result = (
        jvm.org.apache.iceberg.spark.actions.SparkActions.get(jspark)
        .deleteOrphanFiles(jtable)
        .olderThan(int(older.timestamp() * 1000))
        .usePrefixListing(True)  # list through S3FileIO: no Hadoop S3 filesystem on the classpath
        .execute()
    )
    it = result.orphanFileLocations().iterator()
    out = []
    while it.hasNext():
        out.append(str(it.next()))
    return out


def _expired(session: SparkSession, ident: str, before: int) -> int:
    now = session.sql(f"SELECT count(*) FROM {ident}.snapshots").first()
    return max(0, before - int(now[0])) if now else 0


def run_maintenance(
    tables: list[str] | None = None,
    config: MaintenanceConfig | None = None,
    settings: Settings | None = None,
    progress: Callable[[int, int | None, str], None] | None = None,
) -> MaintenanceReport:
    """Maintain ``tables`` (``namespace.table``; default: every lakehouse table); returns the
    before/after report. What ``cryptolake maintenance run [--table …]`` calls."""
    from cryptolake.core.clients import spark_session

    settings = settings or get_settings()
    config = config or MaintenanceConfig()
    names = list(tables or config.tables) or list_tables(
        settings, config.namespaces, extra=config.audit_namespaces
    )
    bad = [t for t in names if t.count(".") != 1]
    if bad:
        raise ConfigError(f"maintenance: table names must read 'namespace.table', got {bad}")
    session = spark_session("cryptolake-maintenance", settings)
    report = MaintenanceReport()
    for done, table in enumerate(names):
        if progress is not None:
            progress(done, len(names), f"maintaining {table}")
        if not session.catalog.tableExists(f"{settings.lakehouse.catalog}.{table}"):
            raise ConfigError(f"maintenance: no table {table} in catalog "
                              f"{settings.lakehouse.catalog}")
        log.info("maintaining %s", table)
        report.tables.append(maintain_table(session, settings, table, config))
    if progress is not None:
        progress(len(names), len(names), "maintained")
    return report


class IcebergMaintenance:
    """Transform entry ``maintenance.iceberg``."""

    def __init__(self, config: MaintenanceConfig | None = None) -> None:
        self.config = config or MaintenanceConfig()

    def run(self, ctx: JobContext) -> JobResult:
        tables = ctx.params.get("tables") or self.config.tables
        report = run_maintenance(list(tables), self.config, ctx.settings, progress=ctx.report)
        totals = report.totals()
        result = JobResult(
            rows_in=sum(t.rewritten_files for t in report.tables),
            rows_out=sum(t.added_files for t in report.tables),
            details={"report": report.as_dict(), "text": report.render()},
        )
        cat = ctx.settings.lakehouse.catalog
        from cryptolake.core.clients import spark_session

        session = spark_session("cryptolake-maintenance", ctx.settings)
        for t in report.tables:
            if t.rewritten_files:
                snap = session.sql(
                    f"SELECT snapshot_id FROM {cat}.{t.table}.snapshots "
                    "ORDER BY committed_at DESC LIMIT 1"
                ).first()
                result.snapshot_ids[t.table] = int(snap[0]) if snap else None
        log.info("maintenance: %s", totals)
        if report.failed:  # every table was tried; a failure fails the job, visibly
            raise MaintenanceFailed(report)
        return result


class MaintenanceFailed(TerminalError):
    """Maintenance of one or more tables failed (the others were maintained)."""

    def __init__(self, report: MaintenanceReport) -> None:
        self.report = report
        failed = report.failed
        super().__init__(
            f"maintenance failed for {len(failed)} of {len(report.tables)} table(s): "
            + "; ".join(f"{t.table}: {t.error}" for t in failed)
        )
