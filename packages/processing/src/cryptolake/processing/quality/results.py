"""Where quality results go: ``ops.dq_results`` (every check) and ``ops.alerts`` (failures).

Rows are appended with pyiceberg from the table contracts in ``cryptolake.core.tables.ops``;
reports are read back through Trino.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptolake.core import CheckResult, Settings, TransientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedResult:
    """A check result with the run, layer and suite that produced it."""

    run_id: str
    layer: str
    suite: str
    result: CheckResult
    checked_at: datetime


def table_exists(settings: Settings, namespace: str, table: str) -> bool:
    """Whether ``namespace.table`` exists (as a table or a view) in the lakehouse catalog."""
    from cryptolake.core.clients import query

    rows = query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [namespace, table],
        settings=settings,
    )
    return bool(rows)


def current_snapshot(settings: Settings, namespace: str, table: str) -> int | None:
    """The current Iceberg snapshot of ``namespace.table`` (``None`` for views or empty tables)."""
    from cryptolake.core.clients import connect

    conn = connect(settings)
    try:
        cur = conn.cursor()
        cur.execute(
            f'SELECT snapshot_id FROM "{namespace}"."{table}$snapshots" '
            "ORDER BY committed_at DESC LIMIT 1"
        )
        row = cur.fetchone()
        return int(row[0]) if row else None
    except Exception as exc:  # a view, or a table that does not exist yet
        log.debug("no snapshot for %s.%s: %s", namespace, table, exc)
        return None
    finally:
        conn.close()


def sql_literal(value: Any, column_type: str) -> str:
    """``value`` as a Trino SQL literal of the contract type ``column_type``."""
    if value is None:
        return "NULL"
    if column_type == "string":
        return "'" + str(value).replace("'", "''") + "'"
    if column_type in ("long", "int"):
        return str(int(value))
    if column_type == "double":
        f = float(value)
        return repr(f) if f == f and f not in (float("inf"), float("-inf")) else "NULL"
    if column_type == "boolean":
        return "true" if value else "false"
    if column_type == "date":
        return f"DATE '{value.isoformat()}'"
    if column_type == "timestamptz":
        ts = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"TIMESTAMP '{ts} UTC'"
    raise ValueError(f"no SQL literal for column type {column_type!r}")


def _append(settings: Settings, identifier: str, namespace: str | None, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to the contract table ``identifier`` (in ``namespace``) through Trino.

    The table is created from its contract first. Trino writes the Iceberg partitions itself
    (pyiceberg needs the optional ``pyiceberg-core`` to write time-partitioned tables).
    """
    if not rows:
        return
    from cryptolake.core.clients import connect, load_catalog
    from cryptolake.core.tables import ensure_table, get_contract

    contract = get_contract(identifier)
    ns = namespace or contract.namespace
    ensure_table(load_catalog(settings), contract, namespace=ns)
    cols = contract.columns
    values = ",\n".join(
        "(" + ", ".join(sql_literal(row.get(col.name), col.type) for col in cols) + ")" for row in rows
    )
    sql = (
        f'INSERT INTO "{ns}"."{contract.name}" ({", ".join(col.name for col in cols)}) '
        f"VALUES {values}"
    )
    conn = connect(settings)
    try:
        for attempt in range(5):
            try:
                cur = conn.cursor()
                cur.execute(sql)
                cur.fetchall()
                return
            except Exception as exc:  # concurrent commits to the same table: retry
                if "conflict" not in str(exc).lower() and "commit" not in str(exc).lower():
                    raise
                log.info("insert into %s.%s lost a race (%s); retrying", ns, contract.name, exc)
                time.sleep(0.5 * (attempt + 1))
        raise TransientError(f"could not append {len(rows)} rows to {ns}.{contract.name}")
    finally:
        conn.close()


def record(
    settings: Settings,
    results: Sequence[RecordedResult],
    *,
    ops_namespace: str | None = None,
) -> int:
    """Append every result to ``ops.dq_results`` and every failure to ``ops.alerts``."""
    dq_rows = [
        {
            "run_id": r.run_id,
            "layer": r.layer,
            "suite": r.suite,
            "check_name": r.result.check,
            "table_name": r.result.table,
            "snapshot_id": r.result.snapshot_id,
            "value": r.result.value,
            "outcome": r.result.outcome,
            "message": r.result.message,
            "checked_at": r.checked_at,
        }
        for r in results
    ]
    alert_rows = [
        {
            "alert_id": uuid.uuid4().hex,
            "run_id": r.run_id,
            "kind": "quality_check_failed",
            "severity": "critical" if r.result.outcome == "fail" else "error",
            "subject": f"{r.result.table}:{r.result.check}",
            "message": (
                f"{r.layer} gate: check {r.result.check!r} on {r.result.table} "
                f"{'failed' if r.result.outcome == 'fail' else 'could not run'}"
                f" (value {r.result.value}): {r.result.message}"
            )[:4000],
            "raised_at": r.checked_at,
        }
        for r in results
        if r.result.failed
    ]
    _append(settings, "ops.dq_results", ops_namespace, dq_rows)
    _append(settings, "ops.alerts", ops_namespace, alert_rows)
    return len(dq_rows)


def now() -> datetime:
    return datetime.now(UTC)


REPORT_COLUMNS = (
    "checked_at", "run_id", "layer", "suite", "table_name", "check_name", "outcome", "value",
    "snapshot_id", "message",
)


def report(
    settings: Settings,
    *,
    layer: str | None = None,
    runs: int = 1,
    run_id: str | None = None,
    only_failed: bool = False,
    ops_namespace: str = "ops",
) -> list[dict[str, Any]]:
    """Results of the latest ``runs`` gate runs (of ``layer``), or of ``run_id``, newest first."""
    from cryptolake.core.clients import query

    where, params = [], []
    if layer:
        where.append("layer = ?")
        params.append(layer)
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    if run_id:
        run_filter, run_params = "run_id = ?", [run_id]
    else:
        run_filter = (
            f'run_id IN (SELECT run_id FROM "{ops_namespace}".dq_results {cond} '
            f"GROUP BY run_id ORDER BY max(checked_at) DESC LIMIT {int(runs)})"
        )
        run_params = list(params)
    extra = " AND outcome IN ('fail', 'error')" if only_failed else ""
    layer_filter = " AND layer = ?" if layer else ""
    sql = (
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM \"{ops_namespace}\".dq_results "
        f"WHERE {run_filter}{layer_filter}{extra} ORDER BY checked_at DESC, layer, table_name, check_name"
    )
    rows = query(sql, [*run_params, *([layer] if layer else [])], settings=settings)
    return [dict(zip(REPORT_COLUMNS, r, strict=True)) for r in rows]
