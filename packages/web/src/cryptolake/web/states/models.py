"""Model lab: every model against every baseline (walk-forward, with intervals), calibration,
champion vs challenger over time, a model's lineage, and retraining."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.figures import calibration_bins, calibration_figure, lines_figure
from cryptolake.web.graphql import ApiError, GraphQLError, auth_headers, nodes
from cryptolake.web.states.base import PageState, client, to_figure


def comparison_row(e: dict[str, Any]) -> dict[str, str]:
    return {
        "model": str(e.get("modelName", "")), "symbol": str(e.get("symbol", "")),
        "horizon": f"{e.get('horizonH')} h", "period": str(e.get("period", "")), "n": fmt.thousands(e.get("n")),
        "accuracy": fmt.percent(e.get("accuracy"), fraction=True, signed=False),
        "interval": (f"{fmt.percent(e.get('ciLow'), fraction=True, signed=False)} … "
                     f"{fmt.percent(e.get('ciHigh'), fraction=True, signed=False)}"),
        "brier": fmt.thousands(e.get("brier"), 4), "log_loss": fmt.thousands(e.get("logLoss"), 4),
        "baseline": f"{e.get('bestBaseline') or fmt.MISSING} "
                    f"({fmt.percent(e.get('bestBaselineAccuracy'), fraction=True, signed=False)})",
        "beats": {True: "yes", False: "no"}.get(e.get("beatsBaseline"), fmt.MISSING),  # type: ignore[arg-type]
    }


def rolling_hits(rows: list[dict[str, Any]], window: int = 20) -> list[dict[str, Any]]:
    """Rolling hit rate (share of right calls over the last ``window`` scored forecasts)."""
    scored = sorted((r for r in rows if r.get("hit") is not None), key=lambda r: str(r.get("issuedAt")))
    out, hits = [], []
    for r in scored:
        hits.append(1.0 if r.get("hit") else 0.0)
        recent = hits[-window:]
        out.append({"time": r.get("issuedAt"), "rate": 100.0 * sum(recent) / len(recent)})
    return out


NO_MODELS = ("No models trained yet: the model registry (ml.models) and its evaluations are empty. "
             "Retrain below with an operator key, or run `cryptolake ml train`; the comparison, "
             "calibration and hit-rate charts appear once a model has been evaluated.")


class ModelsState(PageState, rx.State):
    rows: list[dict[str, str]] = []
    calibration: go.Figure = go.Figure()
    over_time: go.Figure = go.Figure()
    lineage: list[dict[str, str]] = []
    lineage_note: str = ""
    retrain_state: str = fmt.MISSING
    operator_key: str = ""
    action_result: str = ""
    #: set when nothing is trained yet: the page says so instead of drawing empty charts
    no_models: str = ""
    stale_tables: ClassVar[tuple[str, ...]] = ("ml.", "gold.")

    async def _load(self) -> None:
        data = await self._gql(queries.MODELS)
        if data is None:
            return
        evals = data.get("modelComparison") or []
        self.no_models = "" if evals else NO_MODELS
        self.rows = [comparison_row(e) for e in evals]
        self.calibration = to_figure(calibration_figure(
            {f"{e.get('modelName')} ({e.get('symbol')}, {e.get('horizonH')} h)": calibration_bins(e.get("calibration"))
             for e in evals if e.get("calibration")}))
        status = data.get("retrainStatus") or {}
        run = status.get("run") or {}
        self.retrain_state = (f"{status.get('state', fmt.MISSING)}"
                              + (f" — run {run.get('runId')} started {fmt.utc(run.get('startedAt'))}"
                                 if run else ""))
        series: dict[str, list[dict[str, Any]]] = {}
        for name in sorted({str(e.get("modelName")) for e in evals if e.get("modelName")})[:6]:
            hist = await self._gql(queries.MODEL_HISTORY, {"model": name}, quiet=True)
            rows = nodes((hist or {}).get("predictionHistory"))
            if rows:
                role = str(rows[0].get("role") or "")
                series[f"{name} ({role})" if role else name] = rolling_hits(rows)
        self.over_time = to_figure(lines_figure(series, key="rate", title="hit rate, last 20 scored forecasts",
                                                ytitle="% right"))
        await self._load_lineage()

    async def _load_lineage(self) -> None:
        try:
            answer = await client().execute(queries.LINEAGE)
        except GraphQLError as exc:
            self.lineage = []
            self.lineage_note = ("The API exposes no model registry field yet (`models` with "
                                 f"`trainedSnapshots`): {'; '.join(exc.messages)[:200]}")
            return
        except ApiError:
            return
        self.lineage_note = ""
        self.lineage = [{
            "model": f"{m.get('name')} {m.get('version')}", "state": str(m.get("state", "")),
            "trained": fmt.utc(m.get("trainedAt")),
            "snapshots": json.dumps(m.get("trainedSnapshots"), sort_keys=True) if m.get("trainedSnapshots") else fmt.MISSING,
        } for m in answer.data.get("models") or []]

    @rx.event
    def set_operator_key(self, value: str) -> None:
        self.operator_key = value

    @rx.event
    async def retrain(self) -> None:
        if not self.operator_key:
            self.action_result = "An operator API key is needed (cryptolake api keys create --role operator)."
            return
        try:
            answer = await client().execute(queries.RETRAIN, headers=auth_headers(self.operator_key))
        except GraphQLError as exc:
            self.action_result = "Refused: " + "; ".join(exc.messages)
            return
        except ApiError as exc:
            self.api_down, self.api_error = True, str(exc)
            return
        t = answer.data.get("retrainModels") or {}
        self.action_result = f"Retraining queued: run {t.get('runId')} ({t.get('status')})."
        await self._refresh()
