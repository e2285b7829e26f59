"""Promotion rules and scoring once, at the fixed horizon."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cryptolake.ml.registry import decide_roles
from cryptolake.ml.serving import prediction_id, score_rows


def _probs(n: int, acc: dict[str, float], seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    probs = {}
    for name, a in acc.items():
        right = rng.random(n) < a
        probs[name] = np.where(right == (y == 1), 0.7, 0.3)
    times = pd.date_range("2022-01-01", periods=n, freq="h", tz="UTC").to_numpy()
    return probs, y, times


def test_first_retrain_serves_the_ensemble_and_the_tft() -> None:
    probs, y, t = _probs(2000, {"ensemble": 0.5, "tft": 0.5, "gb": 0.52})
    d = decide_roles({}, list(probs), probs, y, t)
    assert d.roles == {"ensemble": "champion", "tft": "challenger", "gb": "candidate"}


def test_challenger_replaces_champion_only_beyond_the_interval() -> None:
    current = {"champion": "ensemble", "challenger": "tft"}
    probs, y, t = _probs(4000, {"ensemble": 0.50, "tft": 0.51})
    assert decide_roles(current, list(probs), probs, y, t).roles["ensemble"] == "champion"
    probs, y, t = _probs(4000, {"ensemble": 0.50, "tft": 0.60})
    d = decide_roles(current, list(probs), probs, y, t)
    assert d.roles == {"tft": "champion", "ensemble": "challenger"}
    assert any("beyond the interval" in r for r in d.reasons)


def test_another_candidate_can_take_the_challenger_slot() -> None:
    current = {"champion": "ensemble", "challenger": "tft"}
    probs, y, t = _probs(4000, {"ensemble": 0.55, "tft": 0.50, "plugin_model": 0.56})
    d = decide_roles(current, list(probs), probs, y, t)
    assert d.roles["plugin_model"] == "challenger" and d.roles["ensemble"] == "champion"
    assert d.roles["tft"] == "candidate"


def test_a_plugin_may_choose_the_champion() -> None:
    probs, y, t = _probs(1000, {"ensemble": 0.5, "tft": 0.5, "gb": 0.5})
    d = decide_roles({}, list(probs), probs, y, t, select=lambda c: "gb")
    assert d.roles["gb"] == "champion"


def test_a_prediction_is_scored_once_at_its_horizon() -> None:
    base = pd.Timestamp("2023-03-01 10:00", tz="UTC")
    pred = {"prediction_id": prediction_id("m1", "BTCUSDT", base, 1), "model_id": "m1",
            "symbol": "BTCUSDT", "horizon_h": 1, "target_time": base + pd.Timedelta(hours=1),
            "prob_up": 0.6, "expected_return": 0.001}
    closes = pd.DataFrame({"symbol": ["BTCUSDT"], "open_time": [base], "close": [100.0]})
    assert score_rows([pred], set(), closes) == []  # the target candle has not landed
    closes = pd.DataFrame({"symbol": ["BTCUSDT"] * 3,
                           "open_time": [base, base + pd.Timedelta(hours=1), base + pd.Timedelta(hours=2)],
                           "close": [100.0, 101.0, 90.0]})
    [row] = score_rows([pred], set(), closes)
    assert row["realized_return"] == np.log(101.0 / 100.0)  # at the horizon, not a later candle
    assert row["hit"] is True and row["brier"] == (0.6 - 1.0) ** 2
    assert row["return_error"] == 0.001 - np.log(1.01)
    assert score_rows([pred], {pred["prediction_id"]}, closes) == []  # never scored twice


def test_a_retrain_is_skipped_only_when_every_champion_saw_the_published_gold(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json
    from types import SimpleNamespace

    import cryptolake.ml.cli as cli
    import cryptolake.ml.features._sources as sources
    import cryptolake.ml.registry as registry

    now = {"gold.fact_price_hourly": 11, "gold.fact_market_daily": 12}
    rows: list[dict[str, object]] = []

    class Store:
        def __init__(self, *_a: object) -> None:
            pass

        def models(self) -> list[dict[str, object]]:
            return rows

    monkeypatch.setattr(cli, "_host", lambda: SimpleNamespace(settings=None))
    monkeypatch.setattr(registry, "ModelStore", Store)
    monkeypatch.setattr(sources, "current_snapshots",
                        lambda *_a, **_k: SimpleNamespace(snapshot_ids=dict(now)))

    assert cli.trained_on_current_gold("gold", "ml") is None  # no champion yet
    rows[:] = [{"state": "champion", "trained_snapshots_json": json.dumps(now)},
               {"state": "retired", "trained_snapshots_json": json.dumps({"gold.x": 1})}]
    assert cli.trained_on_current_gold("gold", "ml") == dict(sorted(now.items()))
    rows.append({"state": "champion", "trained_snapshots_json": json.dumps({**now, "gold.fact_price_hourly": 10})})
    assert cli.trained_on_current_gold("gold", "ml") is None  # one champion saw older Gold


def test_predict_if_changed_skips_only_what_is_already_predicted() -> None:
    from cryptolake.ml.serving import predicted_on

    class Store:
        def __init__(self, rows: list[dict[str, object]]) -> None:
            self._rows = rows

        def rows(self, name: str) -> list[dict[str, object]]:
            assert name == "predictions"
            return self._rows

    def row(model: str, symbol: str, snap: int) -> dict[str, object]:
        return {"model_id": model, "symbol": symbol, "feature_snapshot_id": snap}

    serving = [(1, "champion", {"model_id": "a"}), (24, "challenger", {"model_id": "b"})]
    both = [row("a", "BTCUSDT", 7), row("a", "ETHUSDT", 7), row("b", "BTCUSDT", 7),
            row("b", "ETHUSDT", 7)]
    store: Any = Store(both)
    assert predicted_on(store, serving, 7, None)
    assert predicted_on(store, serving, 7, ["btcusdt"])
    assert not predicted_on(store, serving, 8, None)  # a new Gold snapshot: predict
    assert not predicted_on(store, serving, 7, ["SOLUSDT"])  # a symbol not predicted yet
    # a new model, or one that missed a symbol it predicted before on another snapshot
    assert not predicted_on(store, [*serving, (1, "challenger", {"model_id": "c"})], 7, None)
    store = Store([*both[:3], row("b", "ETHUSDT", 6)])
    assert not predicted_on(store, serving, 7, None)
