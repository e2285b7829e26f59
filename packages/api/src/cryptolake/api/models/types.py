"""GraphQL types of the models domain (filled from the ``ml`` tables)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cryptolake.api.market.types import LakehouseRow
from cryptolake.api.pipeline.types import PipelineRun


@strawberry.type
class Model:
    model_id: strawberry.ID
    name: str
    version: str
    state: str
    horizon_h: int
    code_version: str | None
    metrics: strawberry.scalars.JSON | None
    params: strawberry.scalars.JSON | None
    features: strawberry.scalars.JSON | None
    trained_snapshots: strawberry.scalars.JSON | None
    artifact_uri: str | None
    trained_at: datetime | None
    promoted_at: datetime | None


@strawberry.type(description="One forecast: the probability the price is up after `horizonH` hours.")
class Prediction(LakehouseRow):
    prediction_id: strawberry.ID
    model_id: str
    model_name: str
    role: str
    symbol: str
    issued_at: datetime
    horizon_h: int
    target_time: datetime
    prob_up: float
    expected_return: float | None
    feature_snapshot_id: strawberry.ID | None
    realized_return: float | None = None
    hit: bool | None = None
    brier: float | None = None
    scored_at: datetime | None = None


@strawberry.type(description="Champion and challenger side by side.")
class DualPrediction:
    symbol: str
    horizon_h: int | None
    champion: Prediction | None
    challenger: Prediction | None
    agree: bool | None


@strawberry.type
class ModelEvaluation(LakehouseRow):
    evaluation_id: strawberry.ID
    model_id: str | None
    model_name: str
    horizon_h: int
    symbol: str
    period: str
    n: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    brier: float | None
    log_loss: float | None
    best_baseline: str | None
    best_baseline_accuracy: float | None
    beats_baseline: bool | None
    calibration: strawberry.scalars.JSON | None
    evaluated_at: datetime | None


@strawberry.type
class RetrainStatus:
    run: PipelineRun | None
    state: str = strawberry.field(description="none | running | succeeded | failed")
