"""Per-request DataLoaders: nested fields batch into one statement per request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from cryptolake.api.errors import BeforeFirstCommitError
from cryptolake.api.lakehouse import MissingTableError, Reader
from cryptolake.api.values import Quality, utc

if TYPE_CHECKING:
    from cryptolake.api.state import ApiState

QUALITY_SQL = """
WITH runs AS (
    SELECT table_name, run_id, max(checked_at) AS at FROM {dq}
    WHERE table_name IN ({marks}) GROUP BY table_name, run_id
), latest AS (
    SELECT table_name, max_by(run_id, at) AS run_id FROM runs GROUP BY table_name
)
SELECT d.table_name, d.check_name, d.outcome, d.checked_at, d.snapshot_id
FROM {dq} d JOIN latest l ON d.table_name = l.table_name AND d.run_id = l.run_id
"""

STEPS_SQL = """
SELECT run_id, step, step_index, status, started_at, ended_at, rows_in, rows_out, rejected,
       snapshot_ids, gate, error
FROM {runs} WHERE run_id IN ({marks}) AND step <> '*' ORDER BY run_id, step_index
"""


def _marks(n: int) -> str:
    return ", ".join("?" * n) if n else "NULL"


class Loaders:
    def __init__(self, app: ApiState) -> None:
        self.app = app
        self._quality: dict[int, DataLoader[str, Quality]] = {}
        self._steps: dict[int, DataLoader[str, list[dict[str, Any]]]] = {}

    def _reader(self, r: Reader | None) -> Reader:
        return r if r is not None else Reader(self.app.lakehouse)

    def quality(self, r: Reader | None) -> DataLoader[str, Quality]:
        key = id(r)
        if key not in self._quality:
            reader = self._reader(r)

            async def load(tables: Sequence[str]) -> list[Quality]:
                try:
                    rows = await reader.query(QUALITY_SQL.replace("{marks}", _marks(len(tables))),
                                              {"dq": "ops.dq_results"}, list(tables))
                except (MissingTableError, BeforeFirstCommitError):  # none recorded (by then)
                    rows = []
                by: dict[str, list[dict[str, Any]]] = {}
                for row in rows:
                    by.setdefault(row["table_name"], []).append(row)
                out = []
                for t in tables:
                    checks = by.get(t, [])
                    failed = sorted(c["check_name"] for c in checks if c["outcome"] in ("fail", "error"))
                    warned = any(c["outcome"] == "warn" for c in checks)
                    status = ("fail" if failed else "warn" if warned else "pass") if checks else "unchecked"
                    at = max((utc(c["checked_at"]) for c in checks), default=None)  # type: ignore[type-var]
                    sids = [c["snapshot_id"] for c in checks if c["snapshot_id"] is not None]
                    out.append(Quality(table=t, status=status, failed_checks=failed, checked_at=at,
                                       snapshot_id=strawberry.ID(str(max(sids))) if sids else None))
                return out

            self._quality[key] = DataLoader(load_fn=load)
        return self._quality[key]

    def steps(self, r: Reader | None) -> DataLoader[str, list[dict[str, Any]]]:
        key = id(r)
        if key not in self._steps:
            reader = self._reader(r)

            async def load(run_ids: Sequence[str]) -> list[list[dict[str, Any]]]:
                rows = await reader.query(STEPS_SQL.replace("{marks}", _marks(len(run_ids))),
                                          {"runs": "ops.pipeline_runs"}, list(run_ids))
                by: dict[str, list[dict[str, Any]]] = {}
                for row in rows:
                    by.setdefault(row["run_id"], []).append(row)
                return [by.get(r, []) for r in run_ids]

            self._steps[key] = DataLoader(load_fn=load)
        return self._steps[key]
