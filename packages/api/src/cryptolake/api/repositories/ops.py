"""SQL of the quality and pipeline fields over the ``ops`` tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptolake.api.lakehouse import Reader
from cryptolake.api.repositories import where

DQ = "ops.dq_results"
ALERTS = "ops.alerts"
RUNS = "ops.pipeline_runs"


async def dq_results(r: Reader, layer: str | None, table: str | None, status: str | None,
                     run_id: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    for col, val in (("layer", layer), ("table_name", table), ("outcome", status), ("run_id", run_id)):
        if val is not None:
            conds.append(f"{col} = ?")
            params.append(val)
    return await r.query(
        "SELECT run_id, layer, suite, check_name, table_name, snapshot_id, value, outcome, message, "
        f"checked_at FROM {{t}} {where(conds)} "
        "ORDER BY checked_at DESC, table_name, check_name, run_id OFFSET ? LIMIT ?",
        {"t": DQ}, [*params, offset, limit])


async def alerts(r: Reader, since: datetime | None, ids_in: list[str] | None,
                 ids_out: list[str] | None, offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if since is not None:
        conds.append("raised_at >= ?")
        params.append(since)
    if ids_in is not None:
        if not ids_in:
            return []
        conds.append(f"alert_id IN ({', '.join('?' * len(ids_in))})")
        params += ids_in
    if ids_out:
        conds.append(f"alert_id NOT IN ({', '.join('?' * len(ids_out))})")
        params += ids_out
    return await r.query(
        "SELECT alert_id, run_id, kind, severity, subject, message, raised_at FROM {t} "
        f"{where(conds)} ORDER BY raised_at DESC, alert_id OFFSET ? LIMIT ?",
        {"t": ALERTS}, [*params, offset, limit])


async def alert(r: Reader, alert_id: str) -> dict[str, Any] | None:
    rows = await r.query("SELECT alert_id FROM {t} WHERE alert_id = ?", {"t": ALERTS}, [alert_id])
    return rows[0] if rows else None


RUNS_SQL = """
SELECT run_id, arbitrary(pipeline) AS pipeline, arbitrary(source) AS source, arbitrary(via) AS via,
       min(window_start) AS window_start, max(window_end) AS window_end,
       min(started_at) AS started_at,
       max(CASE WHEN step = '*' THEN ended_at END) AS ended_at,
       coalesce(max(CASE WHEN step = '*' THEN status END), 'running') AS status,
       max(CASE WHEN step = '*' THEN error END) AS error,
       count_if(step <> '*') AS steps_done
FROM {t} {cond} GROUP BY run_id
"""


async def runs(r: Reader, run_id: str | None, pipeline: str | None, status: str | None,
               offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if run_id is not None:
        conds.append("run_id = ?")
        params.append(run_id)
    if pipeline is not None:
        conds.append("pipeline = ?")
        params.append(pipeline)
    outer, oparams = [], []
    if status is not None:
        outer.append("status = ?")
        oparams.append(status)
    sql = (f"SELECT * FROM ({RUNS_SQL.replace('{cond}', where(conds))}) x {where(outer)} "
           "ORDER BY started_at DESC, run_id OFFSET ? LIMIT ?")
    return await r.query(sql, {"t": RUNS}, [*params, *oparams, offset, limit])
