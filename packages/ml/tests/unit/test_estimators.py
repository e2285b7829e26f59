"""Estimator conformance (scikit-learn's check_estimator), fixed seeds, pickling, the ensemble."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from cryptolake.ml.ensemble import StackingEnsemble, fit_weights  # noqa: E402
from cryptolake.ml.estimators import (  # noqa: E402
    GradientBoostingModel,
    LSTMModel,
    RandomForestModel,
    TemporalFusionTransformer,
)

SMALL: list[Any] = [
    # enough epochs to pass check_classifiers_train's accuracy bar on its small problems
    LSTMModel(hidden_size=16, max_epochs=30, learning_rate=1e-2),
    TemporalFusionTransformer(d_model=8, max_epochs=30, learning_rate=1e-2),
    GradientBoostingModel(max_iter=20),
    RandomForestModel(n_estimators=10),
]


@pytest.mark.parametrize("estimator", SMALL, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator: Any) -> None:
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed


def _data(n: int = 400, window: int = 3, k: int = 5, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window * k)).astype(np.float32)
    r = 0.5 * X[:, -1] + rng.normal(scale=0.5, size=n)
    return X, (r > 0).astype(int), r


@pytest.mark.parametrize("make", [
    lambda: GradientBoostingModel(max_iter=20),
    lambda: RandomForestModel(n_estimators=10),
    lambda: LSTMModel(window=3, hidden_size=8, max_epochs=3),
    lambda: TemporalFusionTransformer(window=3, d_model=8, max_epochs=3),
], ids=["gb", "rf", "lstm", "tft"])
def test_same_data_and_parameters_give_the_same_model(make: Any) -> None:
    X, y, r = _data()
    a = make().fit(X, y, y_return=r).predict_proba(X)
    b = make().fit(X, y, y_return=r).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = pickle.loads(pickle.dumps(make().fit(X, y, y_return=r))).predict_proba(X)
    np.testing.assert_array_equal(a, c)


def test_tft_has_its_parts_and_quantile_outputs() -> None:
    X, y, r = _data(window=4)
    tft = TemporalFusionTransformer(window=4, d_model=8, max_epochs=30, learning_rate=1e-2).fit(
        X, y, y_return=r
    )
    names = {n.split(".")[0] for n, _ in tft.net_.named_modules() if n}
    assert {"vsn", "lstm", "attention", "post_attn", "positionwise", "quantile"} <= names
    assert tft.variable_importances_.shape == (5,)
    assert tft.variable_importances_.sum() == pytest.approx(1.0)
    q = tft.predict_quantiles(X)
    assert q.shape == (len(X), 3)
    assert np.mean(q[:, 0] <= q[:, 2]) > 0.9  # the 10 % quantile below the 90 % one
    # the last feature drives the return: its selection weight is the largest
    assert int(np.argmax(tft.variable_importances_)) == 4


def test_ensemble_weights_come_from_out_of_fold_predictions() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000).astype(float)
    good = np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, 0.1, 2000), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 2000)
    w = fit_weights(np.column_stack([noise, good]), y)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert w[1] > 0.8
    X, yy, _ = _data(n=300, window=1, k=20)
    ens = StackingEnsemble(members=[("gb", GradientBoostingModel(max_iter=10), "tabular"),
                                    ("rf", RandomForestModel(n_estimators=5), "tabular")],
                           n_tab=20, cv=3, gap=5).fit(X, yy)
    assert ens.weights_.shape == (2,) and ens.weights_.sum() == pytest.approx(1.0)
    assert ens.predict_proba(X).shape == (300, 2)
