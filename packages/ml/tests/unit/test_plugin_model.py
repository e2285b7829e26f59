"""A third party's model (tests/thirdparty/cryptolake-example-plugin) is trained, evaluated against
the baselines and can be promoted, through the same model hook as the built-in ones."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[4]
EXAMPLE = ROOT / "tests" / "thirdparty" / "cryptolake-example-plugin" / "src"


def test_the_example_plugins_model_is_trained_evaluated_and_promotable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from _ml_synthetic import candles, fear_greed
    from cryptolake_example_plugin import plugin as example

    from cryptolake.core.manager import build_plugin_manager
    from cryptolake.ml import plugin as ml
    from cryptolake.ml.evaluation import EvalSettings, evaluate_horizon, report_rows
    from cryptolake.ml.features import build_dataset, compute_frame
    from cryptolake.ml.models import specs_for
    from cryptolake.ml.registry import decide_roles

    host = build_plugin_manager(autoload=False, plugins=[ml, example])
    specs = {s.name: s for s in specs_for(host.models, fast=True)}
    assert "example.nearest_mean" in specs  # a direction model (probabilistic)
    assert "example.last_value" not in specs  # a regressor without predict_proba: left out
    frame = compute_frame(candles(900, ("AAAUSDT", "BBBUSDT")), fear_greed(days=60))
    data = build_dataset(frame, 1, 4)
    chosen = [specs["example.nearest_mean"], specs["gb"]]
    result = evaluate_horizon(data, chosen, EvalSettings(n_folds=2, holdout_days=3, block_hours=24))
    rows = {(r.model_name, r.symbol, r.period) for r in report_rows(result, 24)}
    assert ("example.nearest_mean", "ALL", "walk_forward") in rows
    assert ("contrarian", "ALL", "walk_forward") in rows
    # promotable: against a challenger with no skill on the same rows it takes the slot, and the
    # next retrain it may replace the champion by the same rule
    probs = dict(result.wf_prob)
    y, t = result.rows.y, result.rows.times
    probs["tft"] = np.where(y == 1, 0.3, 0.7)  # always wrong
    probs["ensemble"] = np.where(y == 1, 0.3, 0.7)
    current = {"champion": "ensemble", "challenger": "tft"}
    d = decide_roles(current, ["ensemble", "tft", "example.nearest_mean"], probs, y, t, block_hours=24)
    assert d.roles["example.nearest_mean"] == "challenger"
    d = decide_roles({"champion": "ensemble", "challenger": "example.nearest_mean"},
                     ["ensemble", "tft", "example.nearest_mean"], probs, y, t, block_hours=24)
    assert d.roles["example.nearest_mean"] == "champion"
    assert "cryptolake_example_plugin" in sys.modules
