"""Root query fields of the models domain. Until cryptolake-ml has written its tables they answer
with a typed NO_MODELS error (single values) or an empty list (lists)."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from strawberry.types import Info

from cryptolake.api.common import AsOf, Connection, MissingTableError, page_size, reader, utc
from cryptolake.api.errors import NoModelsError
from cryptolake.api.lakehouse import Reader
from cryptolake.api.models.mutations import RETRAIN_PIPELINE
from cryptolake.api.models.types import (
    DualPrediction,
    Model,
    ModelEvaluation,
    Prediction,
    RetrainStatus,
)
from cryptolake.api.quality.queries import _offset, offset_connection, run_node
from cryptolake.api.repositories import models as repo
from cryptolake.api.repositories import ops as ops_repo

NO_MODELS = ("no models trained yet: the ml tables are empty or missing; run the retrainModels "
             "mutation (operator key) or `cryptolake ml train`, then ask again")


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def prediction_node(r: Reader, x: dict[str, Any]) -> Prediction:
    return Prediction(
        table_=repo.PREDICTIONS, reader_=r, prediction_id=x["prediction_id"], model_id=x["model_id"],
        model_name=x["model_name"], role=x["role"], symbol=x["symbol"],
        issued_at=utc(x["issued_at"]), horizon_h=x["horizon_h"],  # type: ignore[arg-type]
        target_time=utc(x["target_time"]), prob_up=x["prob_up"],  # type: ignore[arg-type]
        expected_return=x["expected_return"],
        feature_snapshot_id=strawberry.ID(str(x["feature_snapshot_id"])) if x.get("feature_snapshot_id") is not None else None,
        realized_return=x.get("realized_return"), hit=x.get("hit"), brier=x.get("brier"),
        scored_at=utc(x.get("scored_at")))


def model_node(x: dict[str, Any]) -> Model:
    return Model(
        model_id=strawberry.ID(x["model_id"]), name=x["name"], version=x["version"], state=x["state"],
        horizon_h=x["horizon_h"], code_version=x.get("code_version"), metrics=_json(x.get("metrics_json")),
        params=_json(x.get("params_json")), features=_json(x.get("features_json")),
        trained_snapshots=_json(x.get("trained_snapshots_json")), artifact_uri=x.get("artifact_uri"),
        trained_at=utc(x.get("trained_at")), promoted_at=utc(x.get("promoted_at")))


async def _latest(r: Reader, symbol: str, horizon: int | None) -> dict[str, dict[str, Any]]:
    try:
        rows = await repo.latest_predictions(r, symbol.strip().upper(), horizon)
    except MissingTableError:
        raise NoModelsError(NO_MODELS) from None
    return {x["role"]: x for x in rows}


@strawberry.type
class ModelsQuery:
    @strawberry.field(description="The champion's latest forecast for a symbol and horizon.")
    async def prediction(self, info: Info, symbol: str, horizon: int | None = None,
                         as_of: AsOf | None = None) -> Prediction:
        r = reader(info, as_of, repo.PREDICTIONS)
        by_role = await _latest(r, symbol, horizon)
        if "champion" not in by_role:
            raise NoModelsError(f"no champion prediction for {symbol!r}"
                                + (f" at horizon {horizon} h" if horizon else "") + "; " + NO_MODELS)
        return prediction_node(r, by_role["champion"])

    @strawberry.field(description="Champion and challenger forecasts side by side.")
    async def dual_prediction(self, info: Info, symbol: str, horizon: int | None = None,
                              as_of: AsOf | None = None) -> DualPrediction:
        r = reader(info, as_of, repo.PREDICTIONS)
        by_role = await _latest(r, symbol, horizon)
        if not by_role:
            raise NoModelsError(NO_MODELS)
        ch = prediction_node(r, by_role["champion"]) if "champion" in by_role else None
        cl = prediction_node(r, by_role["challenger"]) if "challenger" in by_role else None
        agree = (ch.prob_up >= 0.5) == (cl.prob_up >= 0.5) if ch and cl else None
        return DualPrediction(symbol=symbol.upper(), horizon_h=horizon, champion=ch, challenger=cl,
                              agree=agree)

    @strawberry.field(description="Models and baselines compared on their latest evaluation.")
    async def model_comparison(self, info: Info, horizon: int | None = None, symbol: str = "ALL",
                               period: str | None = None, as_of: AsOf | None = None) -> list[ModelEvaluation]:
        r = reader(info, as_of, repo.EVALUATIONS)
        try:
            rows = await repo.evaluations(r, horizon, symbol.upper(), period)
        except MissingTableError:
            return []
        return [ModelEvaluation(
            table_=repo.EVALUATIONS, reader_=r, evaluation_id=x["evaluation_id"], model_id=x["model_id"],
            model_name=x["model_name"], horizon_h=x["horizon_h"], symbol=x["symbol"], period=x["period"],
            n=x["n"], accuracy=x["accuracy"], ci_low=x["ci_low"], ci_high=x["ci_high"], brier=x["brier"],
            log_loss=x["log_loss"], best_baseline=x["best_baseline"],
            best_baseline_accuracy=x["best_baseline_accuracy"], beats_baseline=x["beats_baseline"],
            calibration=_json(x["calibration_json"]), evaluated_at=utc(x["evaluated_at"])) for x in rows]

    @strawberry.field(description="Past forecasts of one model (by name) with their scores.")
    async def prediction_history(self, info: Info, model: str, symbol: str | None = None,
                                 first: int | None = None, after: str | None = None,
                                 as_of: AsOf | None = None) -> Connection[Prediction]:
        n = page_size(info, first)
        start = _offset(after)
        r = reader(info, as_of, repo.PREDICTIONS)
        try:
            rows = await repo.history(r, model, symbol.upper() if symbol else None, start, n + 1)
        except MissingTableError:
            rows = []
        return offset_connection([prediction_node(r, x) for x in rows], n, start)

    @strawberry.field(description="The registered models, newest first, with their state and "
                      "lineage: the snapshot id of every table each was trained on "
                      "(`trainedSnapshots`), so any model can be rebuilt exactly.")
    async def models(self, info: Info, state: str | None = None, name: str | None = None,
                     as_of: AsOf | None = None) -> list[Model]:
        r = reader(info, as_of, repo.MODELS)
        try:
            rows = await repo.models(r)
        except MissingTableError:
            raise NoModelsError(NO_MODELS) from None
        return [model_node(x) for x in rows
                if (state is None or x["state"] == state) and (name is None or x["name"] == name)]

    @strawberry.field(description="The latest retraining run (or the one named) and its state.")
    async def retrain_status(self, info: Info, run_id: strawberry.ID | None = None) -> RetrainStatus:
        r = reader(info, None, ops_repo.RUNS)
        try:
            if run_id is not None:
                rows = await ops_repo.runs(r, str(run_id), None, None, 0, 1)
            else:
                rows = await ops_repo.runs(r, None, RETRAIN_PIPELINE, None, 0, 1)
        except MissingTableError:
            rows = []
        if not rows:
            return RetrainStatus(run=None, state="none")
        run = run_node(r, rows[0])
        return RetrainStatus(run=run, state=run.status)


TABLES = {
    "prediction": [repo.PREDICTIONS], "dualPrediction": [repo.PREDICTIONS],
    "modelComparison": [repo.EVALUATIONS], "predictionHistory": [repo.PREDICTIONS, repo.SCORES],
    "retrainStatus": [ops_repo.RUNS], "models": [repo.MODELS],
}
