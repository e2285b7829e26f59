"""Walk-forward splits never leak a label window into training; baselines; intervals; report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolake.ml.evaluation import (
    BASELINES,
    EvaluationRow,
    Metrics,
    block_bootstrap,
    format_table,
    score,
    verdict,
    walk_forward_splits,
)

HOUR = 3_600_000_000_000


def _times(hours: int, symbols: int) -> np.ndarray:
    t = pd.date_range("2022-01-01", periods=hours, freq="h", tz="UTC")
    return np.repeat(t.to_numpy(), symbols)


@settings(max_examples=30, deadline=None)
@given(hours=st.integers(600, 3000), symbols=st.integers(1, 3), horizon=st.sampled_from([1, 24]),
       extra=st.integers(0, 48), folds=st.integers(1, 4), holdout=st.sampled_from([3, 10]))
def test_no_test_label_window_overlaps_a_training_row(
    hours: int, symbols: int, horizon: int, extra: int, folds: int, holdout: int
) -> None:
    times = _times(hours, symbols)
    h = pd.to_datetime(times, utc=True).asi8 // HOUR
    splits, hold = walk_forward_splits(times, horizon, n_folds=folds, embargo=horizon + extra,
                                       holdout_days=holdout)
    for split in [*splits, hold]:
        if not len(split.test) or not len(split.train):
            continue
        train_label_end = h[split.train] + horizon  # the label of a row at T ends at T + h
        test_start = h[split.test].min()
        # every training label window (T, T + h] ends at least the embargo before the test rows
        assert train_label_end.max() + horizon + extra <= test_start
        # so no training row's label window overlaps any test row's window (T', T' + h]
        assert not np.intersect1d(split.train, split.test).size
        assert train_label_end.max() < test_start + 1
    reported = np.concatenate([s.test for s in splits if s.reported])
    # walk-forward test labels end before the held-out stretch starts
    if len(hold.test) and len(reported):
        assert (h[reported] + horizon).max() < h[hold.test].min()


def test_embargo_shorter_than_the_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match="embargo"):
        walk_forward_splits(_times(1000, 1), 24, embargo=12)


def test_block_bootstrap_interval() -> None:
    rng = np.random.default_rng(0)
    hits = (rng.random(5000) < 0.55).astype(float)
    low, high = block_bootstrap(hits, np.arange(5000) // 50)
    assert low < 0.55 < high and high - low < 0.05
    # autocorrelated hits: blocks widen the interval compared with i.i.d. resampling
    runs = np.repeat((rng.random(100) < 0.5).astype(float), 50)
    low_b, high_b = block_bootstrap(runs, np.arange(5000) // 100)
    low_i, high_i = block_bootstrap(runs, np.arange(5000))
    assert high_b - low_b > 3 * (high_i - low_i)


def test_contrarian_baseline_wins_on_a_mean_reverting_series() -> None:
    from _ml_synthetic import candles, fear_greed

    from cryptolake.ml.evaluation import baseline_proba
    from cryptolake.ml.features import build_dataset, compute_frame

    c = candles(1500)
    rng = np.random.default_rng(3)
    r = rng.normal(0, 0.01, 1500)
    r[1:] -= 0.8 * r[:-1]  # strongly mean-reverting returns
    c["close"] = 100 * np.exp(np.cumsum(r))
    data = build_dataset(compute_frame(c, fear_greed(days=90)), 1, 1)
    train, test = data.subset(np.arange(700)), data.subset(np.arange(700, len(data)))
    acc = {b: float(np.mean((baseline_proba(b, train, test) >= 0.5) == test.y)) for b in BASELINES}
    assert acc["contrarian"] > 0.6 and acc["persistence"] < 0.4
    assert acc["contrarian"] + acc["persistence"] == pytest.approx(1.0, abs=0.02)
    assert acc["logreg"] > 0.6  # learns the reversal from lagged returns


def test_table_fits_80_columns_and_verdict_says_whether_it_beats() -> None:
    m = Metrics(1000, 0.52, 0.50, 0.54, 0.249, 0.69, [])
    rows = [EvaluationRow("ensemble", 1, "ALL", "walk_forward", m, best_baseline="contrarian",
                          best_baseline_accuracy=0.533, beats_baseline=False),
            EvaluationRow("contrarian", 1, "BTCUSDT", "holdout", m)]
    text = format_table(rows)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "NOT beat the best baseline (contrarian 0.533)" in verdict(rows[0])
    good = Metrics(1000, 0.6, 0.58, 0.62, 0.24, 0.67, [])
    assert "lower bound beats" in verdict(EvaluationRow("gb", 1, "ALL", "holdout", good,
                                                       best_baseline="contrarian",
                                                       best_baseline_accuracy=0.533,
                                                       beats_baseline=True))


def test_score_metrics() -> None:
    y = np.array([1, 0, 1, 1])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    m = score(p, y, _times(4, 1), 2)
    assert m.accuracy == 0.75
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))
    assert sum(b["n"] for b in m.calibration) == 4
