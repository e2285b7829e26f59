"""Catalog commit benchmark: pyiceberg's own transaction against ``clients.transaction``.

    /root/.cache/cryptolake/venv/bin/python bench/catalog.py [--history 250] [--rounds 4]

A private table with the ``ops.pipeline_runs`` contract is given ``--history`` commits (one row
each, as every recorded step adds one), then each round times, for both transactions back to
back: the upsert that records a step (an overwrite filtered on run and step, committed) and a
one-row append (committed). Printed: seconds per round and the median ratio ours / pyiceberg's.
Needs the running stack's catalog (PostgreSQL) and object store; the private namespace
(``bench_<random>``) is dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
import warnings
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import And, EqualTo
from pyiceberg.table import Transaction

from cryptolake.core.clients import load_catalog, transaction
from cryptolake.core.settings import get_settings
from cryptolake.core.tables import ensure_table
from cryptolake.core.tables.ops import PIPELINE_RUNS
from cryptolake.core.testing.stack import drop_namespace


def _row(run_id: str) -> pa.Table:
    return pa.Table.from_pylist(
        [{"run_id": run_id, "step": "bench", "pipeline": "bench", "status": "succeeded",
          "started_at": datetime.now(UTC)}],
        schema=PIPELINE_RUNS.arrow_schema(),
    )


def _upsert(tx_of: Any, table: Any, run_id: str) -> float:
    same = And(EqualTo("run_id", run_id), EqualTo("step", "bench"))  # type: ignore[call-arg, misc, arg-type]
    t = time.perf_counter()
    with tx_of(table) as tx:
        tx.overwrite(_row(run_id), overwrite_filter=same)
    return time.perf_counter() - t


def _append(tx_of: Any, table: Any, run_id: str) -> float:
    t = time.perf_counter()
    with tx_of(table) as tx:
        tx.append(_row(run_id))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, default=250, help="commits before the timed ones")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", "Delete operation did not match any records")
    settings = get_settings()
    ns = f"bench_{uuid.uuid4().hex[:8]}"
    catalog = load_catalog(settings)
    try:
        table = ensure_table(catalog, PIPELINE_RUNS, namespace=ns)
        t0 = time.perf_counter()
        for i in range(args.history):
            _append(transaction, table, f"h{i}")
            if (i + 1) % 50 == 0:
                print(f"  history: {i + 1}/{args.history} commits ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
        print(f"table {ns}.pipeline_runs: {len(table.metadata.snapshots)} snapshots")
        print("round  upsert: pyiceberg  ours   append: pyiceberg  ours")
        ratios_u, ratios_a = [], []
        for r in range(args.rounds):
            u_theirs = _upsert(Transaction, table, f"r{r}a")
            u_ours = _upsert(transaction, table, f"r{r}b")
            a_theirs = _append(Transaction, table, f"r{r}c")
            a_ours = _append(transaction, table, f"r{r}d")
            ratios_u.append(u_ours / u_theirs)
            ratios_a.append(a_ours / a_theirs)
            print(f"{r:5d}  {u_theirs:17.2f} {u_ours:5.2f}   {a_theirs:17.2f} {a_ours:5.2f}")
        print(f"median ratio ours / pyiceberg's: upsert {statistics.median(ratios_u):.2f}, "
              f"append {statistics.median(ratios_a):.2f}")
    finally:
        drop_namespace(ns, settings)


if __name__ == "__main__":
    main()
