"""Contracts of the ``ops`` namespace: pipeline runs, quality results, alerts."""

from __future__ import annotations

from cryptolake.core.tables._contract import Column, PartitionField, TableContract

PIPELINE_RUNS = TableContract(
    namespace="ops",
    name="pipeline_runs",
    doc="One row per pipeline step run (and one per pipeline run with step '*').",
    columns=(
        Column("run_id", "string", required=True),
        Column("pipeline", "string", required=True),
        Column("step", "string", required=True),
        Column("step_index", "int", doc="position of the step in the pipeline; -1 for the run"),
        Column("status", "string", required=True, doc="succeeded | failed | skipped"),
        Column("source", "string", doc="replay | live"),
        Column("window_start", "timestamptz"),
        Column("window_end", "timestamptz"),
        Column("started_at", "timestamptz", required=True),
        Column("ended_at", "timestamptz"),
        Column("rows_in", "long"),
        Column("rows_out", "long"),
        Column("rejected", "long"),
        Column("snapshot_ids", "string", doc="JSON object table -> snapshot id"),
        Column("gate", "string", doc="pass | fail | n/a"),
        Column("error", "string"),
        Column("via", "string", doc="in-process | workers"),
    ),
    partition_by=(PartitionField("started_at", "day"),),
    sort_by=("run_id", "step"),
    key=("run_id", "step"),
)

DQ_RESULTS = TableContract(
    namespace="ops",
    name="dq_results",
    doc="Every quality check result.",
    columns=(
        Column("run_id", "string", required=True),
        Column("layer", "string", required=True),
        Column("suite", "string", required=True),
        Column("check_name", "string", required=True),
        Column("table_name", "string", required=True),
        Column("snapshot_id", "long"),
        Column("value", "double"),
        Column("outcome", "string", required=True),
        Column("message", "string"),
        Column("checked_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("checked_at", "day"),),
    sort_by=("layer", "table_name"),
    key=("run_id", "suite", "check_name", "table_name"),
)

ALERTS = TableContract(
    namespace="ops",
    name="alerts",
    doc="Failed checks and other events someone should look at.",
    columns=(
        Column("alert_id", "string", required=True),
        Column("run_id", "string"),
        Column("kind", "string", required=True),
        Column("severity", "string", required=True),
        Column("subject", "string", required=True),
        Column("message", "string", required=True),
        Column("raised_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("raised_at", "day"),),
    sort_by=("raised_at",),
    key=("alert_id",),
)

#: Every table of the ``ops`` namespace this module declares.
CONTRACTS: tuple[TableContract, ...] = (
    PIPELINE_RUNS,
    DQ_RESULTS,
    ALERTS,
)
