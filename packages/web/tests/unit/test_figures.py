"""Chart figures: overlays add and remove their traces; indicators compute what they claim."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cryptolake.web.figures import (
    CANDLES,
    OVERLAYS,
    bollinger,
    candles_figure,
    ema,
    empty_overlays,
    merge_candle,
    normalise_candles,
    recent,
    sma,
    with_empty_note,
)


def _candles(n: int = 60) -> list[dict[str, Any]]:
    rows = [{"openTime": f"2024-12-02T{h:02d}:{m:02d}:00+00:00", "open": 100 + i, "high": 102 + i,
             "low": 99 + i, "close": 101 + i + (i % 3), "volume": 1.0}
            for i, (h, m) in enumerate((i // 60, i % 60) for i in range(n))]
    return normalise_candles(rows)


def test_sma_and_ema() -> None:
    assert sma([1, 2, 3, 4], 2) == [None, 1.5, 2.5, 3.5]
    out = ema([1.0, 2.0, 3.0, 4.0, 5.0], 3)
    assert out[:2] == [None, None]
    assert out[2] == pytest.approx(2.0)  # seeded with the SMA of the first three
    assert out[3] == pytest.approx(0.5 * 4 + 0.5 * 2.0)
    assert out[4] == pytest.approx(0.5 * 5 + 0.5 * 3.0)


def test_bollinger_bands_are_two_deviations_around_the_mean() -> None:
    values = [float(v) for v in (2, 4, 4, 4, 5, 5, 7, 9)]
    mid, up, low = bollinger(values, window=8, k=2)
    assert mid[-1] == pytest.approx(5.0)
    assert up[-1] == pytest.approx(5.0 + 2 * 2.0)  # population sd of the sample is 2
    assert low[-1] == pytest.approx(1.0)
    assert up[0] is None and low[0] is None


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_overlay_adds_exactly_its_traces(overlay: str) -> None:
    c = _candles()
    base = {t["name"] for t in candles_figure(c)["data"]}
    assert base == {CANDLES}
    with_it = {t["name"] for t in candles_figure(c, [overlay])["data"]}
    assert with_it - base == set(OVERLAYS[overlay])
    assert {t["name"] for t in candles_figure(c, [o for o in OVERLAYS if o != overlay])["data"]} \
        .isdisjoint(OVERLAYS[overlay])


def test_candles_are_sorted_deduplicated_and_utc() -> None:
    rows: list[dict[str, object]] = [{"openTime": "2024-12-02T01:00:00+01:00", "open": 1, "high": 2, "low": 0.5, "close": 1.5},
            {"openTime": "2024-12-01T23:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.2},
            {"openTime": "2024-12-02T00:00:00Z", "open": 1, "high": 3, "low": 0.5, "close": 2.5},
            {"openTime": None, "open": 1, "high": 1, "low": 1, "close": 1},
            {"openTime": "2024-12-02T02:00:00Z", "open": "x", "high": 1, "low": 1, "close": 1}]
    c = normalise_candles(rows)
    assert [x["time"] for x in c] == ["2024-12-01T23:00:00", "2024-12-02T00:00:00"]
    assert c[1]["close"] == 2.5  # the later row for the same open time wins


def test_a_pushed_candle_replaces_its_time_or_is_appended() -> None:
    c = _candles(5)
    forming = {"openTime": str(c[-1]["time"]) + "Z", "open": 1, "high": 9, "low": 1, "close": 8, "final": False}
    merged = merge_candle(c, forming)
    assert len(merged) == 5 and merged[-1]["close"] == 8 and merged[-1]["final"] is False
    new = {"openTime": "2030-01-01T00:00:00Z", "open": 1, "high": 1, "low": 1, "close": 1}
    merged = merge_candle(merged, new, keep=3)
    assert len(merged) == 3 and merged[-1]["time"] == "2030-01-01T00:00:00"


def test_recent_drops_candles_from_an_older_stretch() -> None:
    old = normalise_candles([{"openTime": "2023-03-28T23:00:00Z", "open": 1, "high": 1, "low": 1, "close": 1}])
    c = old + _candles(10)
    assert recent(c, 60, 200) == c[1:]
    assert recent([], 60, 10) == []


def test_an_empty_figure_says_so() -> None:
    empty = with_empty_note(candles_figure([]))
    assert empty["layout"]["annotations"][0]["text"].startswith("No data")
    full = candles_figure(_candles())
    assert with_empty_note(full) is full
    assert not any(math.isnan(v) for v in full["data"][0]["close"])


def test_an_overlay_with_nothing_in_the_shown_range_is_named() -> None:
    candles = _candles(60)
    inside = [{"time": candles[10]["time"], "vwap": 105.0}]
    outside = [{"time": "2020-01-01T00:00:00+00:00", "vwap": 9.0}]
    assert empty_overlays(candles, ["vwap", "ema"], vwap=inside) == []
    notes = empty_overlays(candles, ["vwap", "anomalies", "predictions", "ema"], vwap=outside,
                           predictions=[{"time": candles[-1]["time"], "price": 1.0}])
    assert [n.split(":")[0] for n in notes] == ["VWAP", "Anomalies"]
    assert empty_overlays([], ["vwap"]) == []  # no candles: the figure itself says so


def test_calibration_reads_the_bins_the_ml_evaluation_writes() -> None:
    from cryptolake.web.figures import calibration_bins, calibration_figure

    # the JSON cryptolake.ml.evaluation.calibration_table stores in ml.evaluations
    stored = ('[{"bin_low": 0.4, "bin_high": 0.5, "n": 12, "mean_pred": 0.46, "frac_up": 0.5},'
              ' {"bin_low": 0.5, "bin_high": 0.6, "n": 30, "mean_pred": 0.55, "frac_up": 0.4}]')
    bins = calibration_bins(stored)
    assert bins == [{"predicted": 0.46, "observed": 0.5}, {"predicted": 0.55, "observed": 0.4}]
    fig = with_empty_note(calibration_figure({"lgbm (BTCUSDT, 24 h)": bins}))
    model = [t for t in fig["data"] if t["name"] != "perfect"]
    assert model[0]["x"] == [0.46, 0.55] and model[0]["y"] == [0.5, 0.4]
    assert "annotations" not in fig["layout"]
    # scikit-learn's parallel lists, and nothing readable
    assert calibration_bins({"prob_pred": [0.2], "prob_true": [0.1]}) == [
        {"predicted": 0.2, "observed": 0.1}]
    assert calibration_bins("not json") == []
