from __future__ import annotations

import os
import time
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from cryptolake.core import CheckResult, JobContext, JobResult, QualityGateFailed
from cryptolake.core.clients import load_catalog

SCHEMA = pa.schema([pa.field("n", pa.int64(), nullable=False), pa.field("value", pa.int64())])


def _table(name: str) -> Any:
    from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError

    ns = os.environ["PROBE_NAMESPACE"]
    catalog = load_catalog()
    try:
        catalog.create_namespace(ns)
    except NamespaceAlreadyExistsError:
        pass
    try:
        return catalog.load_table(f"{ns}.{name}")
    except NoSuchTableError:
        return catalog.create_table(f"{ns}.{name}", schema=SCHEMA)


def _commit(ctx: JobContext, name: str, rows: list[dict[str, int]]) -> JobResult:
    table = _table(name)
    table.overwrite(pa.Table.from_pylist(rows, schema=SCHEMA))  # idempotent: replaces the table
    snapshot = table.current_snapshot()
    snap_id = snapshot.snapshot_id if snapshot else None
    ctx.committed(f"{os.environ['PROBE_NAMESPACE']}.{name}", snap_id, len(rows))
    return JobResult(rows_out=len(rows), snapshot_ids={name: snap_id})


def _read(name: str) -> list[dict[str, int]]:
    return sorted(_table(name).scan().to_arrow().to_pylist(), key=lambda r: r["n"])


class Numbers:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        n = int(os.environ.get("PROBE_ROWS", "5"))
        result = _commit(ctx, "bronze_numbers", [{"n": i, "value": i} for i in range(n)])
        result.rows_in = n
        return result


class Double:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        marker = os.environ.get("PROBE_MARKER")
        if marker:
            with open(marker, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")
        time.sleep(float(os.environ.get("PROBE_SLEEP_S", "0")))
        rows = _read("bronze_numbers")
        result = _commit(ctx, "silver_doubled", [{"n": r["n"], "value": 2 * r["value"]} for r in rows])
        result.rows_in = len(rows)
        return result


class Gate:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        rows = _read("silver_doubled")
        bad = os.environ.get("PROBE_GATE_FAIL") == "1" or any(r["value"] % 2 for r in rows)
        results = [CheckResult("values are even", "silver_doubled", "fail" if bad else "pass",
                               float(len(rows)))]
        if bad:
            ctx.host.quality_gate_failed(layer="silver", results=results)
            raise QualityGateFailed("silver", [r.check for r in results if r.failed])
        return JobResult(rows_in=len(rows), details={"checks": len(results)})


class Total:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        rows = _read("silver_doubled")
        result = _commit(ctx, "gold_total", [{"n": 0, "value": sum(r["value"] for r in rows)}])
        result.rows_in = len(rows)
        return result
