"""Retrain: Gold at a recorded snapshot → features → walk-forward evaluation → final fits →
registry (``ml.models``, artifacts) → ``ml.evaluations`` → promotion. And the exact rebuild."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptolake.ml import __version__
from cryptolake.ml.ensemble import StackingEnsemble
from cryptolake.ml.evaluation import (
    EvalSettings,
    EvaluationRow,
    HorizonResult,
    ModelSpec,
    evaluate_horizon,
    fit_estimator,
    now,
    report_rows,
)
from cryptolake.ml.features import (
    FEATURE_NAMES,
    HORIZONS,
    Dataset,
    GoldSnapshot,
    build_dataset,
    compute_frame,
    load_gold,
)
from cryptolake.ml.models import ENSEMBLE, specs_for, window_for
from cryptolake.ml.registry import ModelStore, decide_roles, new_model_id

if TYPE_CHECKING:
    from cryptolake.core.manager import PluginHost

log = logging.getLogger(__name__)
REFERENCE_ROWS = 256


@dataclass
class TrainOptions:
    symbols: list[str] | None = None
    fast: bool = False
    horizons: tuple[int, ...] = HORIZONS
    gold_namespace: str = "gold"
    ml_namespace: str = "ml"
    models: list[str] | None = None  # default: every registered model
    promote: bool = True

    def eval_settings(self) -> EvalSettings:
        return EvalSettings(n_folds=2 if self.fast else 3, holdout_days=3 if self.fast else 60,
                            block_hours=24 if self.fast else 168)


@dataclass
class TrainSummary:
    snapshot: GoldSnapshot
    rows: list[EvaluationRow] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def expected_return_stats(data: Dataset) -> dict[str, float]:
    up = data.y_ret[data.y == 1]
    down = data.y_ret[data.y == 0]
    return {"mean_up": float(up.mean()) if len(up) else 0.0,
            "mean_down": float(down.mean()) if len(down) else 0.0}


def expected_return(payload: dict[str, Any], X: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """TFT: its median quantile; others: P(up)·E[r | up] + P(down)·E[r | down] (training rows)."""
    est = payload["estimator"]
    if hasattr(est, "predict_quantiles") and hasattr(est, "return_scale_"):
        q = est.predict_quantiles(X)
        return np.asarray(q[:, list(est.quantiles).index(0.5)])
    stats = payload["return_stats"]
    return prob * stats["mean_up"] + (1 - prob) * stats["mean_down"]


def view_of(payload: dict[str, Any], data: Dataset) -> np.ndarray:
    return data.X_seq if payload["view"] == "sequence" else data.X_tab


def _reference(est: Any, view: str, data: Dataset) -> dict[str, Any]:
    ref = data.subset(np.arange(max(0, len(data) - REFERENCE_ROWS), len(data)))
    X = ref.X_seq if view == "sequence" else ref.X_tab
    return {"keys": list(zip(ref.meta["symbol"], ref.meta["open_time"].astype(str), strict=True)),
            "prob": est.predict_proba(X)[:, -1].astype("float64")}


def _metrics(rows: Sequence[EvaluationRow], name: str, horizon: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows:
        if r.model_name == name and r.horizon_h == horizon and r.symbol == "ALL":
            p = r.period
            out.update({f"{p}_accuracy": r.metrics.accuracy, f"{p}_ci_low": r.metrics.ci_low,
                        f"{p}_ci_high": r.metrics.ci_high, f"{p}_brier": r.metrics.brier,
                        f"{p}_log_loss": r.metrics.log_loss, f"{p}_n": r.metrics.n,
                        f"{p}_best_baseline_accuracy": r.best_baseline_accuracy,
                        f"{p}_beats_baseline": r.beats_baseline})
    return out


def load_frame(
    host: PluginHost, opts: TrainOptions, snapshot: GoldSnapshot | None = None
) -> tuple[pd.DataFrame, GoldSnapshot]:
    candles, fear_greed, snap = load_gold(
        host.settings, namespace=opts.gold_namespace, snapshot=snapshot, symbols=opts.symbols
    )
    if candles.empty:
        from cryptolake.core.errors import ConfigError

        raise ConfigError(f"{opts.gold_namespace}.fact_price_hourly has no rows to train on")
    return compute_frame(candles, fear_greed, opts.horizons), snap


def fit_final(spec: ModelSpec, data: Dataset) -> Any:
    return spec.fit(data)


def train_and_register(
    host: PluginHost,
    opts: TrainOptions,
    *,
    progress: Callable[[str], None] | None = None,
    frame: pd.DataFrame | None = None,
    snapshot: GoldSnapshot | None = None,
) -> TrainSummary:
    """The whole retrain; returns what it did. Writes ``ml.models``, ``ml.evaluations``."""
    say = progress or (lambda m: log.info("%s", m))
    if frame is None:
        frame, snapshot = load_frame(host, opts)
    assert snapshot is not None
    store = ModelStore(host.settings, opts.ml_namespace)
    specs = specs_for(host.models, fast=opts.fast, only=opts.models)
    settings = opts.eval_settings()
    window = window_for(opts.fast)
    summary = TrainSummary(snapshot)
    trained_at = now()
    existing = store.models() if opts.promote else []
    new_rows: list[dict[str, Any]] = []
    for h in opts.horizons:
        data = build_dataset(frame, h, window)
        if len(data) < 50:
            say(f"h={h}: only {len(data)} rows, skipped")
            continue
        result = evaluate_horizon(data, specs, settings, progress=say)
        rows = report_rows(result, settings.block_hours)
        ids: dict[str, str] = {}
        models_h: list[dict[str, Any]] = []
        fitted: dict[str, Any] = {}
        for spec in specs:
            say(f"h={h}: final fit of {spec.name} on {len(data)} rows")
            fitted[spec.name] = fit_final(spec, data)
        payloads: dict[str, dict[str, Any]] = {
            s.name: {"estimator": fitted[s.name], "view": s.view, "params": s.params} for s in specs
        }
        if result.members:
            members = [(m, fitted[m], next(s.view for s in specs if s.name == m)) for m in result.members]
            oof, y_oof = _all_oof(result)
            ens = StackingEnsemble.from_members(members, oof, y_oof, n_tab=len(FEATURE_NAMES))
            payloads[ENSEMBLE] = {"estimator": ens, "view": "sequence",
                                  "params": {"members": result.members,
                                             "weights": [float(w) for w in ens.weights_],
                                             "window": window}}
        for name, payload in payloads.items():
            model_id = new_model_id(name, trained_at, f"{h}|{snapshot.snapshot_ids}")
            ids[name] = model_id
            payload.update({
                "model_id": model_id, "name": name, "horizon": h, "window": window,
                "features": list(FEATURE_NAMES), "return_stats": expected_return_stats(data),
                "train_until": str(data.meta["open_time"].max()), "symbols": opts.symbols,
                "fast": opts.fast, "reference": _reference(payload["estimator"], payload["view"], data),
            })
            uri = store.save_artifact(model_id, payload)
            models_h.append({
                "model_id": model_id, "name": name, "version": f"{trained_at:%Y%m%dT%H%M%S}",
                "state": "candidate", "horizon_h": h,
                "params_json": json.dumps(payload["params"], sort_keys=True, default=str),
                "features_json": json.dumps({"features": list(FEATURE_NAMES), "window": window,
                                             "view": payload["view"]}),
                "code_version": f"cryptolake-ml {__version__}",
                "metrics_json": json.dumps(_metrics(rows, name, h), sort_keys=True),
                "trained_snapshots_json": json.dumps(snapshot.snapshot_ids, sort_keys=True),
                "artifact_uri": uri, "trained_at": trained_at, "promoted_at": None,
            })
        for r in rows:
            r.model_id = ids.get(r.model_name)
        summary.rows.extend(rows)
        if opts.promote:
            _promote(host, existing, models_h, result, settings.block_hours, summary)
        new_rows.extend(models_h)
    store.append("evaluations", [r.as_record(trained_at) for r in summary.rows])
    if opts.promote:
        store.replace_models(existing + new_rows)
    else:
        store.append("models", new_rows)
    summary.models = new_rows
    return summary


def _all_oof(result: HorizonResult) -> tuple[np.ndarray, np.ndarray]:
    oof, y = result.ensemble_oof
    if result.holdout_prob and len(result.holdout):
        hold = np.column_stack([result.holdout_prob[m] for m in result.members])
        return np.vstack([oof, hold]), np.concatenate([y, result.holdout.y])
    return oof, y


def _promote(
    host: PluginHost,
    existing: list[dict[str, Any]],
    models_h: list[dict[str, Any]],
    result: HorizonResult,
    block_hours: int,
    summary: TrainSummary,
) -> None:
    h = result.horizon
    current = {r["state"]: r["name"] for r in existing
               if r["horizon_h"] == h and r["state"] in ("champion", "challenger")}
    names = [m["name"] for m in models_h if m["name"] in result.wf_prob]

    def select(candidates: list[dict[str, Any]]) -> str | None:
        chosen: str | None = host.select_champion(target=f"direction_{h}h", candidates=candidates)
        return chosen

    decision = decide_roles(current, names, result.wf_prob, result.rows.y, result.rows.times,
                            block_hours=block_hours, select=select)
    summary.reasons.extend(f"h={h}: {r}" for r in decision.reasons)
    stamp = now()
    for r in existing:
        if r["horizon_h"] == h and r["state"] != "retired":
            r["state"] = "retired"
    for m in models_h:
        m["state"] = decision.roles.get(m["name"], "candidate")
        if m["state"] in ("champion", "challenger"):
            m["promoted_at"] = stamp
        if m["state"] == "champion":
            metrics = {k: float(v) for k, v in json.loads(m["metrics_json"]).items()
                       if isinstance(v, int | float) and not isinstance(v, bool)}
            host.model_promoted(model=m["name"], version=m["model_id"], metrics=metrics)
            summary.promoted.append(m["model_id"])


# -- rebuild ---------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    model_id: str
    rows: int
    max_abs_diff: float

    @property
    def exact(self) -> bool:
        return self.max_abs_diff == 0.0


def rebuild(host: PluginHost, model_id: str, *, ml_namespace: str = "ml") -> RebuildResult:
    """Retrain ``model_id`` from its recorded snapshots and parameters; compare its predictions
    on the recorded reference rows with those the original made (``max_abs_diff`` 0 = exact)."""
    from cryptolake.ml.features import GoldSnapshot

    store = ModelStore(host.settings, ml_namespace)
    row = store.get(model_id)
    payload = store.load_artifact(row["artifact_uri"])
    snapshots = json.loads(row["trained_snapshots_json"])
    namespace = next(iter(snapshots)).rsplit(".", 1)[0]
    opts = TrainOptions(symbols=payload.get("symbols"), fast=bool(payload.get("fast")),
                        horizons=(int(payload["horizon"]),), gold_namespace=namespace)
    frame, _ = load_frame(host, opts, GoldSnapshot(namespace, {k: int(v) for k, v in snapshots.items()}))
    data = build_dataset(frame, int(payload["horizon"]), int(payload["window"]))
    until = pd.Timestamp(payload["train_until"])
    data = data.subset(np.flatnonzero(data.meta["open_time"] <= until))
    est = _refit(host, payload, data)
    keys = {k: i for i, k in enumerate(zip(data.meta["symbol"], data.meta["open_time"].astype(str), strict=True))}
    idx = np.array([keys[tuple(k)] for k in payload["reference"]["keys"]])
    ref = data.subset(idx)
    X = ref.X_seq if payload["view"] == "sequence" else ref.X_tab
    prob = est.predict_proba(X)[:, -1].astype("float64")
    diff = float(np.max(np.abs(prob - payload["reference"]["prob"]))) if len(prob) else 0.0
    return RebuildResult(row["model_id"], len(prob), diff)


def _refit(host: PluginHost, payload: dict[str, Any], data: Dataset) -> Any:
    from sklearn.base import clone

    est = payload["estimator"]
    if isinstance(est, StackingEnsemble):
        members = []
        for name, member, view in est.fitted_:
            X = data.X_seq if view == "sequence" else data.X_tab
            members.append((name, fit_estimator(clone(member), X, data.y, data.y_ret), view))
        rebuilt = StackingEnsemble(members=[(n, clone(e), v) for n, e, v in members],
                                   n_tab=est.n_tab)
        rebuilt.classes_, rebuilt.n_features_in_ = est.classes_, None
        rebuilt.fitted_, rebuilt.weights_ = members, np.asarray(payload["params"]["weights"])
        return rebuilt
    X = data.X_seq if payload["view"] == "sequence" else data.X_tab
    return fit_estimator(clone(est), X, data.y, data.y_ret)
