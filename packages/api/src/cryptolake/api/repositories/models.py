"""SQL of the model fields over the ``ml`` tables (written by cryptolake-ml)."""

from __future__ import annotations

from typing import Any

from cryptolake.api.lakehouse import Reader
from cryptolake.api.repositories import where

MODELS = "ml.models"
EVALUATIONS = "ml.evaluations"
PREDICTIONS = "ml.predictions"
SCORES = "ml.prediction_scores"

_PRED_COLS = ("prediction_id, model_id, model_name, role, symbol, issued_at, horizon_h, target_time, "
              "prob_up, expected_return, feature_snapshot_id")


async def latest_predictions(r: Reader, symbol: str, horizon: int | None) -> list[dict[str, Any]]:
    """The newest prediction of each role for ``symbol`` (and ``horizon``)."""
    conds: list[str] = ["symbol = ?"]
    params: list[Any] = [symbol]
    if horizon is not None:
        conds.append("horizon_h = ?")
        params.append(horizon)
    return await r.query(
        f"SELECT * FROM (SELECT {_PRED_COLS}, row_number() OVER (PARTITION BY role ORDER BY issued_at DESC, "
        f"prediction_id) AS rn FROM {{p}} {where(conds)}) x WHERE rn = 1",
        {"p": PREDICTIONS}, params)


async def model(r: Reader, model_id: str) -> dict[str, Any] | None:
    rows = await r.query(
        "SELECT model_id, name, version, state, horizon_h, params_json, features_json, code_version, "
        "metrics_json, trained_snapshots_json, artifact_uri, trained_at, promoted_at FROM {m} "
        "WHERE model_id = ?", {"m": MODELS}, [model_id])
    return rows[0] if rows else None


async def models(r: Reader) -> list[dict[str, Any]]:
    return await r.query(
        "SELECT model_id, name, version, state, horizon_h, params_json, features_json, code_version, "
        "metrics_json, trained_snapshots_json, artifact_uri, trained_at, promoted_at FROM {m} "
        "ORDER BY trained_at DESC", {"m": MODELS})


async def evaluations(r: Reader, horizon: int | None, symbol: str, period: str | None) -> list[dict[str, Any]]:
    conds: list[str] = ["symbol = ?"]
    params: list[Any] = [symbol]
    if horizon is not None:
        conds.append("horizon_h = ?")
        params.append(horizon)
    if period is not None:
        conds.append("period = ?")
        params.append(period)
    return await r.query(
        "SELECT * FROM (SELECT evaluation_id, model_id, model_name, horizon_h, symbol, period, n, accuracy, "
        "ci_low, ci_high, brier, log_loss, best_baseline, best_baseline_accuracy, beats_baseline, "
        "calibration_json, evaluated_at, row_number() OVER (PARTITION BY model_name, horizon_h, period "
        f"ORDER BY evaluated_at DESC) AS rn FROM {{e}} {where(conds)}) x WHERE rn = 1 "
        "ORDER BY accuracy DESC NULLS LAST, model_name", {"e": EVALUATIONS}, params)


async def history(r: Reader, model_name: str, symbol: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[str] = ["p.model_name = ?"]
    params: list[Any] = [model_name]
    if symbol is not None:
        conds.append("p.symbol = ?")
        params.append(symbol)
    cols = ", ".join(f"p.{c.strip()}" for c in _PRED_COLS.split(","))
    return await r.query(
        f"SELECT {cols}, s.scored_at, s.realized_return, s.hit, s.brier, s.return_error "
        f"FROM {{p}} p LEFT JOIN {{s}} s ON p.prediction_id = s.prediction_id {where(conds)} "
        "ORDER BY p.issued_at DESC, p.prediction_id OFFSET ? LIMIT ?",
        {"p": PREDICTIONS, "s": SCORES}, [*params, offset, limit])
