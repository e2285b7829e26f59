"""Synthetic Gold-shaped inputs for the unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def candles(n: int = 300, symbols: tuple[str, ...] = ("AAAUSDT",), seed: int = 0,
            start: str = "2023-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for k, sym in enumerate(symbols):
        r = rng.normal(0, 0.01, n)
        close = 100.0 * (k + 1) * np.exp(np.cumsum(r))
        frames.append(pd.DataFrame({
            "symbol": sym,
            "open_time": pd.date_range(start, periods=n, freq="h", tz="UTC"),
            "open": close * (1 - r / 2), "high": close * 1.01, "low": close * 0.99,
            "close": close, "volume": rng.uniform(10, 100, n),
        }))
    return pd.concat(frames, ignore_index=True)


def fear_greed(start: str = "2022-12-25", days: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"date": pd.date_range(start, periods=days, freq="D"),
                         "value": rng.integers(0, 101, days).astype(float)})
