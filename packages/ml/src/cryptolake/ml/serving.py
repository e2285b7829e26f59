"""Inference and scoring.

:func:`predict` — for each horizon, the champion and the challenger (read from ``ml.models`` on
every call, so a new champion is picked up without a restart) predict the latest bar of every
symbol from Gold at its current snapshot; rows land in ``ml.predictions`` and are published to
Kafka (``<prefix>ml.predictions``, key = symbol, value = the row as JSON). A prediction's id is a
hash of (model, symbol, bar, horizon): running it twice for the same bar writes nothing new.

:func:`score` — a prediction issued for bar ``T`` at horizon ``h`` targets the candle that opens
at ``T + h`` (``target_time``); once that candle is in Gold, ``ml.prediction_scores`` records the
realised log return ``ln(close(T + h) / close(T))``, the hit, the Brier score and the return
error — once per prediction (a scored prediction is never scored again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptolake.ml.evaluation import now
from cryptolake.ml.features import HORIZONS, build_dataset, compute_frame, load_gold
from cryptolake.ml.features._sources import HOURLY
from cryptolake.ml.registry import SERVING, ModelStore

if TYPE_CHECKING:
    from cryptolake.core.settings import Settings

log = logging.getLogger(__name__)
TOPIC = "ml.predictions"
_ARTIFACTS: dict[str, dict[str, Any]] = {}


def prediction_id(model_id: str, symbol: str, bar: pd.Timestamp, horizon: int) -> str:
    return hashlib.sha256(f"{model_id}|{symbol}|{bar.isoformat()}|{horizon}".encode()).hexdigest()[:24]


def _artifact(store: ModelStore, row: dict[str, Any]) -> dict[str, Any]:
    if row["model_id"] not in _ARTIFACTS:
        _ARTIFACTS[row["model_id"]] = store.load_artifact(row["artifact_uri"])
    return _ARTIFACTS[row["model_id"]]


@dataclass
class PredictOptions:
    gold_namespace: str = "gold"
    ml_namespace: str = "ml"
    symbols: list[str] | None = None
    publish: bool = True
    #: skip when every serving model already predicted on the Gold snapshot published now
    if_changed: bool = False


def predicted_on(store: ModelStore, serving: list[tuple[int, str, dict[str, Any]]],
                 snapshot: int, symbols: list[str] | None) -> bool:
    """Whether every serving model has predictions made on Gold ``snapshot`` — for ``symbols``,
    or for every symbol it predicted before when ``symbols`` is None. The latest bar of a
    snapshot does not change, so predicting again would add nothing."""
    made: dict[str, set[str]] = {}
    ever: dict[str, set[str]] = {}
    for r in store.rows("predictions"):
        ever.setdefault(r["model_id"], set()).add(r["symbol"])
        if r.get("feature_snapshot_id") == snapshot:
            made.setdefault(r["model_id"], set()).add(r["symbol"])
    for _h, _role, model in serving:
        mid = model["model_id"]
        wanted = {s.upper() for s in symbols} if symbols else ever.get(mid, set())
        if not wanted or not wanted <= made.get(mid, set()):
            return False
    return True


def _serving(store: ModelStore) -> list[tuple[int, str, dict[str, Any]]]:
    return [(h, role, row) for h in HORIZONS for role, row in store.serving(h).items()]


def predictions_current(settings: Settings, opts: PredictOptions, store: ModelStore | None = None,
                        serving: list[tuple[int, str, dict[str, Any]]] | None = None) -> int | None:
    """The Gold snapshot every serving model has already predicted on, when it is the one
    published now (predicting again would add nothing); else ``None``. Reads no model and
    imports no estimator library, so a caller can ask before starting a run. ``store`` and
    ``serving`` (its serving versions) are read here unless the caller has them."""
    from cryptolake.ml.features._sources import current_snapshots

    store = store or ModelStore(settings, opts.ml_namespace)
    serving = _serving(store) if serving is None else serving
    if not serving:
        return None
    now_snap = current_snapshots(settings, opts.gold_namespace)
    hourly = now_snap.snapshot_ids.get(now_snap.table(HOURLY))
    if hourly is not None and predicted_on(store, serving, int(hourly), opts.symbols):
        return int(hourly)
    return None


def predict(settings: Settings, opts: PredictOptions) -> list[dict[str, Any]]:
    """Predict the latest bar of every symbol with every serving model; returns the new rows."""
    from cryptolake.ml.training import expected_return, view_of

    store = ModelStore(settings, opts.ml_namespace)
    serving = _serving(store)
    if not serving:
        log.warning("no serving model in %s.models: train first (cryptolake ml train)", opts.ml_namespace)
        return []
    if opts.if_changed:
        current = predictions_current(settings, opts, store, serving)
        if current is not None:
            log.info("every serving model already predicted on Gold snapshot %s: nothing to do",
                     current)
            return []
    candles, fear_greed, snap = load_gold(settings, namespace=opts.gold_namespace, symbols=opts.symbols)
    frame = compute_frame(candles, fear_greed, HORIZONS)
    feature_snapshot = snap.snapshot_ids[snap.table(HOURLY)]
    issued = now()
    done = {r["prediction_id"] for r in store.rows("predictions")}
    rows: list[dict[str, Any]] = []
    for h, role, model in sorted(serving, key=lambda s: (s[0], SERVING.index(s[1]))):
        payload = _artifact(store, model)
        data = build_dataset(frame, h, int(payload["window"]), with_target=False)
        last = data.meta.groupby("symbol")["open_time"].transform("max") == data.meta["open_time"]
        keep = np.flatnonzero(last.to_numpy() & latest_bar(data.meta, frame))
        sub = data.subset(keep)
        if not len(sub):
            continue
        X = view_of(payload, sub)
        prob = payload["estimator"].predict_proba(X)[:, -1].astype("float64")
        exp = expected_return(payload, X, prob)
        for i in range(len(sub)):
            bar = pd.Timestamp(sub.meta["open_time"].iloc[i])
            symbol = str(sub.meta["symbol"].iloc[i])
            pid = prediction_id(model["model_id"], symbol, bar, h)
            if pid in done:
                continue
            rows.append({
                "prediction_id": pid, "model_id": model["model_id"], "model_name": model["name"],
                "role": role, "symbol": symbol, "issued_at": issued, "horizon_h": h,
                "target_time": (bar + pd.Timedelta(hours=h)).to_pydatetime(),
                "prob_up": float(prob[i]), "expected_return": float(exp[i]),
                "feature_snapshot_id": int(feature_snapshot),
            })
    store.append("predictions", rows)
    if opts.publish and rows:
        publish(settings, rows)
    return rows


def latest_bar(meta: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """True where the row is its symbol's latest bar in Gold (no prediction for a stale bar)."""
    last = frame.groupby("symbol")["open_time"].max()
    return np.asarray(meta["open_time"].to_numpy() == meta["symbol"].map(last).to_numpy())


def as_message(row: dict[str, Any]) -> str:
    out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    return json.dumps(out, sort_keys=True)


def publish(settings: Settings, rows: list[dict[str, Any]]) -> None:
    from confluent_kafka import Producer

    from cryptolake.core.clients import ensure_topics, producer_config, topic_name

    topic = topic_name(TOPIC, settings)
    ensure_topics([topic], settings)
    producer = Producer(producer_config(settings))
    for row in rows:
        producer.produce(topic, key=row["symbol"].encode(), value=as_message(row).encode())
    remaining = producer.flush(30)
    if remaining:
        from cryptolake.core.errors import TransientError

        raise TransientError(f"{remaining} prediction message(s) not delivered to {topic}")


def score_rows(
    predictions: list[dict[str, Any]], scored: set[str], closes: pd.DataFrame
) -> list[dict[str, Any]]:
    """Scores of the predictions not scored yet whose target candle is in ``closes``
    (``symbol``, ``open_time``, ``close``). Pure: the unit tests drive it directly."""
    index = {(s, pd.Timestamp(t)): float(c) for s, t, c in
             zip(closes["symbol"], pd.to_datetime(closes["open_time"], utc=True), closes["close"], strict=True)}
    out = []
    stamp = now()
    for p in predictions:
        if p["prediction_id"] in scored:
            continue
        target = pd.Timestamp(p["target_time"])
        target = target.tz_localize("UTC") if target.tzinfo is None else target
        base = target - pd.Timedelta(hours=int(p["horizon_h"]))
        c0, c1 = index.get((p["symbol"], base)), index.get((p["symbol"], target))
        if c0 is None or c1 is None or c0 <= 0 or c1 <= 0:
            continue  # the target candle has not landed (or the base bar is missing)
        realized = float(np.log(c1 / c0))
        up = 1.0 if realized > 0 else 0.0
        prob = float(p["prob_up"])
        out.append({
            "prediction_id": p["prediction_id"], "model_id": p["model_id"], "symbol": p["symbol"],
            "horizon_h": int(p["horizon_h"]), "target_time": target.to_pydatetime(),
            "scored_at": stamp, "realized_return": realized,
            "hit": bool((prob >= 0.5) == (realized > 0)) if realized != 0 else False,
            "brier": (prob - up) ** 2,
            "return_error": (float(p["expected_return"]) - realized)
            if p.get("expected_return") is not None else None,
        })
    return out


def score(settings: Settings, opts: PredictOptions) -> list[dict[str, Any]]:
    """Score every prediction whose target candle has landed and that is not scored yet."""
    store = ModelStore(settings, opts.ml_namespace)
    predictions = store.rows("predictions")
    scored = {r["prediction_id"] for r in store.rows("prediction_scores")}
    pending = [p for p in predictions if p["prediction_id"] not in scored]
    if not pending:
        return []
    candles, _, _ = load_gold(settings, namespace=opts.gold_namespace,
                              symbols=sorted({p["symbol"] for p in pending}))
    rows = score_rows(pending, scored, candles)
    store.append("prediction_scores", rows)
    return rows
