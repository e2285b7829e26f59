"""The committed SDL (packages/api/schema.graphql) is the schema the code builds."""

from __future__ import annotations

from pathlib import Path

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_the_committed_sdl_has_not_drifted() -> None:
    from cryptolake.api.schema import schema

    assert SDL.read_text().strip() == schema.as_str().strip(), (
        "packages/api/schema.graphql is stale: run "
        "`cryptolake api export-schema` (the same as `strawberry export-schema cryptolake.api.schema:schema`)"
    )


def test_the_sdl_has_every_root_field_of_the_issue() -> None:
    sdl = SDL.read_text()
    for field in ("coins", "candles(", "trades(", "vwap(", "anomalies(", "marketDaily(", "marketOverview",
                  "fearGreed(", "dqResults(", "alerts(", "pipelineRuns(", "pipelineRun(", "dataHealth",
                  "prediction(", "dualPrediction(", "modelComparison", "predictionHistory(", "retrainStatus",
                  "runPipeline(", "runMaintenance", "acknowledgeAlert(", "retrainModels"):
        assert f"  {field}" in sdl, field
    assert "input AsOf @oneOf" in sdl
