"""Features: formulas, gaps, Fear & Greed alignment, targets, and no lookahead (property test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _ml_synthetic import candles, fear_greed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptolake.ml.features import (
    FEATURE_NAMES,
    FEATURES,
    WARMUP,
    build_dataset,
    compute_frame,
)


def test_twenty_documented_features() -> None:
    assert len(FEATURES) == 20 and len(set(FEATURE_NAMES)) == 20
    assert all(f.formula.strip() for f in FEATURES)


def test_formulas_on_known_values() -> None:
    c = candles(200)
    frame = compute_frame(c, fear_greed())
    row = frame.iloc[150]
    close = c["close"].to_numpy()
    assert row["ret_1h"] == pytest.approx(np.log(close[150] / close[149]))
    assert row["ret_24h"] == pytest.approx(np.log(close[150] / close[126]))
    r = np.diff(np.log(close))
    assert row["vol_24h"] == pytest.approx(np.std(r[126:150], ddof=1))
    sma, sd = close[131:151].mean(), close[131:151].std(ddof=1)
    assert row["bb_position"] == pytest.approx((close[150] - sma) / (2 * sd))
    assert row["momentum_24h"] == pytest.approx(close[150] / close[127:151].mean() - 1)
    assert 0 <= row["rsi_14"] <= 1
    t = row["open_time"]
    assert row["hour_sin"] == pytest.approx(np.sin(2 * np.pi * t.hour / 24))
    assert frame["y_ret_1h"].iloc[150] == pytest.approx(np.log(close[151] / close[150]))
    assert frame["y_ret_24h"].iloc[150] == pytest.approx(np.log(close[174] / close[150]))
    assert frame["y_up_1h"].iloc[150] == float(close[151] > close[150])


def test_fear_greed_is_the_value_published_before_the_bar() -> None:
    c = candles(24 * 5)
    fg = pd.DataFrame({"date": pd.date_range("2022-12-31", periods=6, freq="D"),
                       "value": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]})
    frame = compute_frame(c, fg).set_index("open_time")
    # 2023-01-04 00:00 and 23:00: the index of 01-04 is not known yet; that of 01-03 is
    for stamp in ("2023-01-04 00:00", "2023-01-04 23:00"):
        assert frame.loc[pd.Timestamp(stamp, tz="UTC"), "fear_greed"] == pytest.approx((40 - 50) / 50)


def test_no_feature_or_target_crosses_a_gap() -> None:
    c = candles(400)
    gapped = c.drop(index=range(200, 203)).reset_index(drop=True)  # a 3-hour outage
    frame = compute_frame(gapped, fear_greed())
    after = frame[frame["open_time"] >= c["open_time"].iloc[203]]
    assert after["segment"].nunique() == 1 and after["segment"].iloc[0] == 1
    assert after["pos"].iloc[0] == 0
    # nothing in the first WARMUP bars after the gap; afterwards, the same as from the
    # post-gap data alone
    assert after[list(FEATURE_NAMES)].iloc[:WARMUP].isna().all().all()
    alone = compute_frame(c.iloc[203:].reset_index(drop=True), fear_greed())
    pd.testing.assert_frame_equal(
        after[list(FEATURE_NAMES)].reset_index(drop=True), alone[list(FEATURE_NAMES)],
        check_exact=False, rtol=1e-12,
    )
    before = frame[frame["open_time"] < c["open_time"].iloc[200]]
    assert before["y_ret_1h"].iloc[-1:].isna().all()  # its target is inside the gap
    assert before["y_ret_24h"].iloc[-24:].isna().all()


def test_a_reused_ticker_starts_a_new_segment() -> None:
    c = candles(300)
    c.loc[150:, ["open", "high", "low", "close"]] *= 0.01  # a new asset under the same ticker
    frame = compute_frame(c, fear_greed())
    assert frame["pos"].iloc[150] == 0
    assert frame["y_ret_1h"].iloc[149] != frame["y_ret_1h"].iloc[149] or np.isnan(frame["y_ret_1h"].iloc[149])


def test_dataset_rows_are_aligned_for_every_model() -> None:
    frame = compute_frame(candles(300, ("AAAUSDT", "BBBUSDT")), fear_greed())
    data = build_dataset(frame, 1, window=4)
    assert data.X_seq.shape[1] == 4 * 20
    np.testing.assert_array_equal(data.X_tab, data.X_seq[:, -20:])
    times = pd.to_datetime(data.meta["open_time"], utc=True).astype("int64").to_numpy()
    assert (np.diff(times) >= 0).all()
    # the window's first step is the bar three hours earlier, same symbol
    key = frame.set_index(["symbol", "open_time"])
    sym, t = data.meta["symbol"].iloc[10], data.meta["open_time"].iloc[10]
    earlier = key.loc[(sym, t - pd.Timedelta(hours=3)), list(FEATURE_NAMES)].to_numpy(dtype="float32")
    np.testing.assert_allclose(data.X_seq[10, :20], earlier)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=WARMUP + 5, max_value=260),
    scale=st.floats(min_value=0.2, max_value=5.0),
    drop=st.integers(min_value=0, max_value=30),
    fg_shift=st.floats(min_value=-40, max_value=40),
    seed=st.integers(min_value=0, max_value=10),
)
def test_changing_data_after_t_leaves_features_at_t_unchanged(
    cut: int, scale: float, drop: int, fg_shift: float, seed: int
) -> None:
    c = candles(300, ("AAAUSDT", "BBBUSDT"), seed=seed)
    fg = fear_greed(seed=seed)
    t = c["open_time"].iloc[cut]
    base = compute_frame(c, fg)
    later = c["open_time"] > t
    changed = c.copy()
    changed.loc[later, ["open", "high", "low", "close"]] *= scale
    changed.loc[later, "volume"] *= 1 / scale
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(later.to_numpy())
    changed = changed.drop(index=rng.choice(idx, size=min(drop, len(idx)), replace=False))
    fg2 = fg.copy()
    fg2.loc[fg2["date"] >= t.tz_localize(None).normalize(), "value"] += fg_shift  # published on/after t's day
    other = compute_frame(changed, fg2)
    cols = ["symbol", "open_time", "segment", *FEATURE_NAMES]
    a = base[base["open_time"] <= t][cols].reset_index(drop=True)
    b = other[other["open_time"] <= t][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
