"""The design matrix every model and baseline shares: the same rows, aligned by construction.

A row is a bar ``T`` whose features are defined, whose target at the horizon is defined (ties
dropped), and whose ``window`` previous bars (``T - window + 1 .. T``; at least the 6 the baselines use)
lie in the same segment with their features defined,
so the sequence models (LSTM, TFT) and the tabular ones see exactly the same rows. The tabular
view is the last step of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptolake.ml.features._compute import FEATURE_NAMES, WARMUP, feature_rows, target_columns

#: Lagged one-hour returns kept per row for the logistic-regression baseline.
LAGS = 6


@dataclass
class Dataset:
    """Rows of one horizon, sorted by (time, symbol)."""

    horizon: int
    window: int
    meta: pd.DataFrame  # symbol, open_time, segment, past returns (baselines use them)
    X_seq: np.ndarray  # (n, window * n_features), oldest step first
    y: np.ndarray  # direction, 0/1 int
    y_ret: np.ndarray  # log return at the horizon

    @property
    def n_features(self) -> int:
        return len(FEATURE_NAMES)

    @property
    def X_tab(self) -> np.ndarray:
        return self.X_seq[:, -self.n_features :]

    @property
    def times(self) -> np.ndarray:
        return self.meta["open_time"].to_numpy()

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: np.ndarray) -> Dataset:
        return Dataset(self.horizon, self.window, self.meta.iloc[idx].reset_index(drop=True),
                       self.X_seq[idx], self.y[idx], self.y_ret[idx])


def _windows(values: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    steps = [values[ends - (window - 1 - k)] for k in range(window)]
    return np.concatenate(steps, axis=1)


def build_dataset(
    frame: pd.DataFrame, horizon: int, window: int = 1, *, with_target: bool = True
) -> Dataset:
    """Rows of ``frame`` (from :func:`compute_frame`) usable at ``horizon`` with a ``window``.

    ``with_target=False`` keeps rows whose target is not known yet (inference).
    """
    ret_col, up_col = target_columns(horizon)
    ok = feature_rows(frame).to_numpy() & (frame["pos"].to_numpy() >= WARMUP + max(window, LAGS) - 1)
    if with_target:
        ok &= frame[up_col].notna().to_numpy()
    ends = np.flatnonzero(ok)
    values = frame[list(FEATURE_NAMES)].to_numpy(dtype="float32")
    X = _windows(values, ends, window) if len(ends) else np.zeros((0, window * len(FEATURE_NAMES)), "float32")
    meta = frame.iloc[ends][["symbol", "open_time", "segment", "ret_1h", "ret_4h", "ret_24h", "ret_72h"]]
    meta = meta.reset_index(drop=True)
    r1 = frame["ret_1h"].to_numpy()
    for lag in range(1, LAGS):  # earlier 1-hour returns, same segment (pos >= WARMUP)
        meta[f"ret_1h_lag{lag}"] = r1[ends - lag] if len(ends) else []
    y_up = frame[up_col].to_numpy()[ends]
    y_ret = frame[ret_col].to_numpy()[ends]
    order = np.lexsort((meta["symbol"].to_numpy(), meta["open_time"].to_numpy()))
    meta = meta.iloc[order].reset_index(drop=True)
    return Dataset(
        horizon=horizon,
        window=window,
        meta=meta,
        X_seq=X[order],
        y=np.nan_to_num(y_up[order], nan=0.0).astype("int64"),
        y_ret=y_ret[order].astype("float64"),
    )
