"""The 20 features and the targets, computed per symbol and per gap-free segment.

Inputs (the shape of Gold, whatever the origin):

- ``candles``: one row per (``symbol``, ``open_time``) with ``open``, ``high``, ``low``, ``close``,
  ``volume`` — ``gold.fact_price_hourly``. ``open_time`` is the bar's UTC open time.
- ``fear_greed``: one row per UTC ``date`` with ``value`` (0–100) — the Fear & Greed index as
  carried by ``gold.fact_market_daily.fear_greed_value``.

Time convention: the row of bar ``T`` (open time) is what is known when that bar closes, at
``T + 1 h``; it uses bars with open time ``<= T`` only. Targets look forward: the log return from
the close of ``T`` to the close of ``T + h``.

Segments: a symbol's series is cut into segments at every missing hour (exchange outage,
delisting, a late listing) and at every bar whose close moved by more than a factor
:data:`REUSE_FACTOR` in one hour (a ticker re-used for a new asset after a collapse, a
redenomination). Every feature and every target is computed inside one segment; the first
:data:`WARMUP` bars of a segment have no features, a target whose horizon leaves the segment is
missing. Nothing is ever computed across a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)
#: Bars a segment needs before its first feature row (the longest look-back: 72 h).
WARMUP = 72
#: A one-hour close ratio above this (or below its inverse) starts a new segment.
REUSE_FACTOR = 3.0
#: The Fear & Greed value used is at most this many days older than the bar's previous day.
FEAR_GREED_MAX_AGE_DAYS = 2
HORIZONS = (1, 24)


@dataclass(frozen=True)
class Feature:
    name: str
    formula: str


#: The 20 features, in column order; ``c`` close, ``v`` volume, ``r`` = ln(c_t / c_{t-1}).
FEATURES: tuple[Feature, ...] = (
    Feature("ret_1h", "ln(c_t / c_{t-1})"),
    Feature("ret_4h", "ln(c_t / c_{t-4})"),
    Feature("ret_24h", "ln(c_t / c_{t-24})"),
    Feature("ret_72h", "ln(c_t / c_{t-72})"),
    Feature("vol_6h", "sample std of r over the last 6 bars"),
    Feature("vol_24h", "sample std of r over the last 24 bars"),
    Feature("vol_72h", "sample std of r over the last 72 bars"),
    Feature("rsi_14", "RSI(14) with Wilder smoothing (EWM, alpha 1/14) of gains/losses, / 100"),
    Feature("macd", "(EMA_12(c) - EMA_26(c)) / c_t"),
    Feature("macd_signal", "EMA_9(macd)"),
    Feature("macd_hist", "macd - macd_signal"),
    Feature("bb_position", "(c_t - SMA_20(c)) / (2 * std_20(c)): -1 / +1 at the lower / upper band"),
    Feature("bb_width", "4 * std_20(c) / SMA_20(c)"),
    Feature("volume_ratio", "ln(v_t / mean(v over the last 24 bars)); 0 when the mean is 0"),
    Feature("momentum_24h", "c_t / SMA_24(c) - 1"),
    Feature("fear_greed", "(FG_d - 50) / 50, FG_d the latest index of a day before the bar's day"),
    Feature("hour_sin", "sin(2 pi hour(T) / 24)"),
    Feature("hour_cos", "cos(2 pi hour(T) / 24)"),
    Feature("dow_sin", "sin(2 pi weekday(T) / 7)"),
    Feature("dow_cos", "cos(2 pi weekday(T) / 7)"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def target_columns(horizon: int) -> tuple[str, str]:
    """(log return column, direction column) of ``horizon`` hours."""
    return f"y_ret_{horizon}h", f"y_up_{horizon}h"


def _normalise_candles(candles: pd.DataFrame) -> pd.DataFrame:
    df = candles[["symbol", "open_time", "open", "high", "low", "close", "volume"]].copy()
    df["open_time"] = pd.to_datetime(df["open_time"], utc=True)
    for col in ("open", "high", "low", "close", "volume"):
        df[col] = df[col].astype("float64")
    df = df.drop_duplicates(["symbol", "open_time"], keep="last")
    return df.sort_values(["symbol", "open_time"], kind="mergesort").reset_index(drop=True)


def segment_ids(candles: pd.DataFrame) -> pd.Series:
    """A segment number per row of sorted ``candles`` (unique across symbols)."""
    sym_change = candles["symbol"].ne(candles["symbol"].shift())
    gap = candles["open_time"].diff().ne(HOUR)
    ratio = candles["close"] / candles["close"].shift()
    jump = (ratio > REUSE_FACTOR) | (ratio < 1 / REUSE_FACTOR) | ~(candles["close"] > 0)
    return (sym_change | gap | jump).cumsum().rename("segment")


def _ewm(s: pd.core.groupby.SeriesGroupBy, alpha: float) -> pd.Series:
    return s.transform(lambda x: x.ewm(alpha=alpha, adjust=False).mean())


def _fear_greed_aligned(times: pd.Series, fear_greed: pd.DataFrame | None) -> np.ndarray:
    """Per bar: the latest index value of a date strictly before the bar's UTC date."""
    if fear_greed is None or fear_greed.empty:
        return np.full(len(times), np.nan)
    fg = fear_greed[["date", "value"]].dropna().copy()
    fg["date"] = pd.to_datetime(fg["date"]).dt.tz_localize(None).dt.normalize()
    fg = fg.drop_duplicates("date", keep="last").sort_values("date")
    # the index of day d is published during day d: a bar on day D sees days <= D - 1
    known = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize() - pd.Timedelta(days=1)
    left = pd.DataFrame({"known": known.to_numpy(), "i": np.arange(len(times))}).sort_values("known")
    merged = pd.merge_asof(
        left, fg.rename(columns={"date": "known_date"}), left_on="known", right_on="known_date",
        direction="backward", tolerance=pd.Timedelta(days=FEAR_GREED_MAX_AGE_DAYS),
    )
    out = np.full(len(times), np.nan)
    out[merged["i"].to_numpy()] = merged["value"].to_numpy(dtype="float64")
    return out


def compute_frame(
    candles: pd.DataFrame,
    fear_greed: pd.DataFrame | None = None,
    horizons: tuple[int, ...] = HORIZONS,
) -> pd.DataFrame:
    """Every bar with its segment, features and targets (NaN where undefined).

    Columns: ``symbol``, ``open_time``, ``close``, ``segment`` (0, 1, … within the symbol),
    ``pos`` (bar index in its segment),
    the :data:`FEATURE_NAMES`, and per horizon ``y_ret_{h}h`` / ``y_up_{h}h`` (1.0 up, 0.0 down,
    NaN for a tie or a missing target).
    """
    df = _normalise_candles(candles)
    df["segment"] = segment_ids(df)
    g = df.groupby("segment", sort=False)
    df["pos"] = g.cumcount()
    c = df["close"]
    logc = np.log(c.where(c > 0))
    df["_logc"] = logc
    gl = df.groupby("segment", sort=False)["_logc"]
    r = logc - gl.shift(1)
    df["_r"] = r
    gr = df.groupby("segment", sort=False)["_r"]
    gc = df.groupby("segment", sort=False)["close"]
    gv = df.groupby("segment", sort=False)["volume"]

    out = pd.DataFrame(index=df.index)
    out["ret_1h"] = r
    out["ret_4h"] = logc - gl.shift(4)
    out["ret_24h"] = logc - gl.shift(24)
    out["ret_72h"] = logc - gl.shift(72)
    for w in (6, 24, 72):
        out[f"vol_{w}h"] = gr.transform(lambda x, w=w: x.rolling(w, min_periods=w).std())
    gain = r.clip(lower=0).fillna(0.0)
    loss = (-r).clip(lower=0).fillna(0.0)
    df["_gain"], df["_loss"] = gain, loss
    avg_gain = _ewm(df.groupby("segment", sort=False)["_gain"], 1 / 14)
    avg_loss = _ewm(df.groupby("segment", sort=False)["_loss"], 1 / 14)
    total = avg_gain + avg_loss
    out["rsi_14"] = np.where(total > 0, avg_gain / total.where(total > 0), 0.5)
    ema12 = _ewm(gc, 2 / 13)
    ema26 = _ewm(gc, 2 / 27)
    macd = (ema12 - ema26) / c
    df["_macd"] = macd
    signal = _ewm(df.groupby("segment", sort=False)["_macd"], 2 / 10)
    out["macd"], out["macd_signal"], out["macd_hist"] = macd, signal, macd - signal
    sma20 = gc.transform(lambda x: x.rolling(20, min_periods=20).mean())
    std20 = gc.transform(lambda x: x.rolling(20, min_periods=20).std())
    out["bb_position"] = np.where(std20 > 0, (c - sma20) / (2 * std20.where(std20 > 0)), 0.0)
    out["bb_width"] = 4 * std20 / sma20
    vmean = gv.transform(lambda x: x.rolling(24, min_periods=24).mean())
    ratio = df["volume"] / vmean.where(vmean > 0)
    out["volume_ratio"] = np.where(vmean > 0, np.log(ratio.where(ratio > 0).fillna(1e-6)), 0.0)
    sma24 = gc.transform(lambda x: x.rolling(24, min_periods=24).mean())
    out["momentum_24h"] = c / sma24 - 1
    out["fear_greed"] = (_fear_greed_aligned(df["open_time"], fear_greed) - 50.0) / 50.0
    hour = df["open_time"].dt.hour.to_numpy()
    dow = df["open_time"].dt.weekday.to_numpy()
    out["hour_sin"] = np.sin(2 * np.pi * hour / 24)
    out["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    out["dow_sin"] = np.sin(2 * np.pi * dow / 7)
    out["dow_cos"] = np.cos(2 * np.pi * dow / 7)
    warm = df["pos"].to_numpy() >= WARMUP
    feats = out[list(FEATURE_NAMES)].astype("float64")
    feats = feats.where(pd.Series(warm, index=feats.index), np.nan, axis=0)

    frame = pd.concat([df[["symbol", "open_time", "close", "segment", "pos"]], feats], axis=1)
    # number segments within each symbol: a symbol's numbering depends on its own past only
    frame["segment"] = (df["pos"] == 0).astype(int).groupby(df["symbol"], sort=False).cumsum() - 1
    for h in horizons:
        ret_col, up_col = target_columns(h)
        fut = gl.shift(-h)
        y = fut - logc
        frame[ret_col] = y
        frame[up_col] = np.where(y > 0, 1.0, np.where(y < 0, 0.0, np.nan))
        frame.loc[y.isna(), up_col] = np.nan
    return frame


def feature_rows(frame: pd.DataFrame) -> pd.Series:
    """True where every feature is defined."""
    return frame[list(FEATURE_NAMES)].notna().all(axis=1)
