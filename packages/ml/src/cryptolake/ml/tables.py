"""Contracts of the ``ml`` namespace, declared through ``cryptolake_register_tables``.

The API reads them: their columns are a contract (docs/ml.md, "Tables").
"""

from __future__ import annotations

from cryptolake.core.tables import Column, PartitionField, TableContract

MODELS = TableContract(
    namespace="ml",
    name="models",
    doc="Every trained model version, its state and exactly what it was trained on.",
    columns=(
        Column("model_id", "string", required=True),
        Column("name", "string", required=True, doc="ensemble, tft, gb, rf, lstm or a plugin's"),
        Column("version", "string", required=True),
        Column("state", "string", required=True, doc="candidate | challenger | champion | retired"),
        Column("horizon_h", "int", required=True),
        Column("params_json", "string"),
        Column("features_json", "string"),
        Column("code_version", "string"),
        Column("metrics_json", "string"),
        Column("trained_snapshots_json", "string", doc="JSON table -> Iceberg snapshot id"),
        Column("artifact_uri", "string"),
        Column("trained_at", "timestamptz", required=True),
        Column("promoted_at", "timestamptz"),
    ),
    sort_by=("name", "trained_at"),
    key=("model_id",),
)

EVALUATIONS = TableContract(
    namespace="ml",
    name="evaluations",
    doc="Walk-forward and held-out metrics of every model and baseline, per coin and pooled.",
    columns=(
        Column("evaluation_id", "string", required=True),
        Column("model_id", "string", doc="NULL for baselines"),
        Column("model_name", "string", required=True),
        Column("horizon_h", "int", required=True),
        Column("symbol", "string", required=True, doc="ALL = pooled"),
        Column("period", "string", required=True, doc="walk_forward | holdout"),
        Column("n", "long"),
        Column("accuracy", "double"),
        Column("ci_low", "double"),
        Column("ci_high", "double"),
        Column("brier", "double"),
        Column("log_loss", "double"),
        Column("best_baseline", "string"),
        Column("best_baseline_accuracy", "double"),
        Column("beats_baseline", "boolean"),
        Column("calibration_json", "string"),
        Column("evaluated_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("evaluated_at", "day"),),
    key=("evaluation_id",),
)

PREDICTIONS = TableContract(
    namespace="ml",
    name="predictions",
    doc="Predictions of the serving models (champion and challenger), one per symbol and horizon.",
    columns=(
        Column("prediction_id", "string", required=True),
        Column("model_id", "string", required=True),
        Column("model_name", "string", required=True),
        Column("role", "string", required=True, doc="champion | challenger"),
        Column("symbol", "string", required=True),
        Column("issued_at", "timestamptz", required=True),
        Column("horizon_h", "int", required=True),
        Column("target_time", "timestamptz", required=True, doc="open time of the target candle"),
        Column("prob_up", "double"),
        Column("expected_return", "double", doc="expected log return to target_time's close"),
        Column("feature_snapshot_id", "long", doc="snapshot of gold.fact_price_hourly used"),
    ),
    partition_by=(PartitionField("issued_at", "day"),),
    sort_by=("symbol", "issued_at"),
    key=("prediction_id",),
)

PREDICTION_SCORES = TableContract(
    namespace="ml",
    name="prediction_scores",
    doc="The outcome of each prediction, recorded once, when the target candle has landed.",
    columns=(
        Column("prediction_id", "string", required=True),
        Column("model_id", "string", required=True),
        Column("symbol", "string", required=True),
        Column("horizon_h", "int", required=True),
        Column("target_time", "timestamptz", required=True),
        Column("scored_at", "timestamptz", required=True),
        Column("realized_return", "double"),
        Column("hit", "boolean"),
        Column("brier", "double"),
        Column("return_error", "double", doc="expected_return - realized_return"),
    ),
    partition_by=(PartitionField("scored_at", "day"),),
    key=("prediction_id",),
)

ALL = (MODELS, EVALUATIONS, PREDICTIONS, PREDICTION_SCORES)
