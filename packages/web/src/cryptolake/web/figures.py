"""Chart data as Plotly figure dictionaries, and the overlays computed from candles.

Pure (no Reflex, no plotly import): the states wrap the result in ``plotly.graph_objects.Figure``.
Every trace has a stable ``name`` (:data:`TRACE_NAMES`): the browser tests find traces by it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptolake.web import format as fmt

#: the overlays a user can toggle on the Charts page, and the traces each one adds
OVERLAYS: dict[str, tuple[str, ...]] = {
    "ema": ("EMA 20",),
    "ma": ("MA 20", "MA 50"),
    "vwap": ("VWAP",),
    "bollinger": ("Bollinger upper", "Bollinger lower"),
    "anomalies": ("Anomalies",),
    "predictions": ("Prediction right", "Prediction wrong"),
}
OVERLAY_LABELS = {
    "ema": "EMA 20", "ma": "Moving averages", "vwap": "VWAP", "bollinger": "Bollinger bands",
    "anomalies": "Anomalies", "predictions": "Predictions",
}
CANDLES = "Candles"
TRACE_NAMES = (CANDLES, *(n for names in OVERLAYS.values() for n in names))

UP, DOWN = "#16a34a", "#dc2626"

#: the intervals offered on the Charts page and their length in seconds
INTERVALS: dict[str, int] = {
    "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800,
}


# ---------------------------------------------------------------------------------- indicators
def sma(values: Sequence[float], window: int) -> list[float | None]:
    """Simple moving average; None until ``window`` values are in."""
    out: list[float | None] = []
    total = 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / window if i >= window - 1 else None)
    return out


def ema(values: Sequence[float], span: int) -> list[float | None]:
    """Exponential moving average (alpha = 2 / (span + 1)), seeded with the SMA of the first
    ``span`` values; None before that."""
    out: list[float | None] = []
    alpha = 2.0 / (span + 1)
    prev: float | None = None
    for i, v in enumerate(values):
        if i < span - 1:
            out.append(None)
            continue
        prev = sum(values[:span]) / span if prev is None else alpha * v + (1 - alpha) * prev
        out.append(prev)
    return out


def bollinger(
    values: Sequence[float], window: int = 20, k: float = 2.0
) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """(middle, upper, lower): the SMA ± ``k`` population standard deviations."""
    mid = sma(values, window)
    upper: list[float | None] = []
    lower: list[float | None] = []
    for i, m in enumerate(mid):
        if m is None:
            upper.append(None)
            lower.append(None)
            continue
        chunk = values[i - window + 1 : i + 1]
        sd = math.sqrt(sum((x - m) ** 2 for x in chunk) / window)
        upper.append(m + k * sd)
        lower.append(m - k * sd)
    return mid, upper, lower


# ------------------------------------------------------------------------------------ candles
TIME_KEYS = ("openTime", "time", "start", "bucket", "ts", "timestamp", "eventTime", "date")


def row_time(row: Mapping[str, Any]) -> str | None:
    """The ISO time of an API row, whatever the field is called; as ``YYYY-MM-DDTHH:MM:SS``
    (UTC, no offset: what Plotly's date axis reads)."""
    for key in TIME_KEYS:
        if row.get(key) not in (None, ""):
            dt = fmt.to_datetime(row[key])
            if dt is not None:
                return dt.strftime("%Y-%m-%dT%H:%M:%S")
    return None


def _f(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def normalise_candles(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """API candles as ``{time, open, high, low, close, volume, final}``, sorted, one per time
    (a later row for the same time — the forming candle's update — replaces the earlier)."""
    by_time: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = row_time(r)
        o, h, lo, c = (_f(r.get(k)) for k in ("open", "high", "low", "close"))
        if t is None or None in (o, h, lo, c):
            continue
        by_time[t] = {
            "time": t, "open": o, "high": h, "low": lo, "close": c,
            "volume": _f(r.get("volume")) or 0.0,
            "final": bool(r.get("final", r.get("isFinal", r.get("closed", True)))),
        }
    return [by_time[t] for t in sorted(by_time)]


def recent(candles: list[dict[str, Any]], interval_s: int, n: int) -> list[dict[str, Any]]:
    """The candles within ``n`` intervals of the newest one (a chart of the last ``n`` candles
    without a years-wide gap when older, unrelated data exists)."""
    if not candles:
        return []
    newest = fmt.to_datetime(candles[-1]["time"])
    assert newest is not None
    start = (newest.timestamp() - interval_s * n)
    return [c for c in candles if (t := fmt.to_datetime(c["time"])) is not None and t.timestamp() > start]


def merge_candle(candles: list[dict[str, Any]], update: Mapping[str, Any],
                 keep: int | None = None) -> list[dict[str, Any]]:
    """``candles`` with one pushed candle merged in (replaces its time, or appends)."""
    merged = normalise_candles([*candles, update])
    return merged[-keep:] if keep else merged


def candles_figure(
    candles: Sequence[Mapping[str, Any]],
    overlays: Iterable[str] = (),
    *,
    vwap: Sequence[Mapping[str, Any]] = (),
    anomalies: Sequence[Mapping[str, Any]] = (),
    predictions: Sequence[Mapping[str, Any]] = (),
    title: str = "",
    height: int = 520,
) -> dict[str, Any]:
    """A candlestick figure with the chosen overlays (keys of :data:`OVERLAYS`)."""
    chosen = set(overlays)
    times = [c["time"] for c in candles]
    closes = [float(c["close"]) for c in candles]
    data: list[dict[str, Any]] = [{
        "type": "candlestick", "name": CANDLES, "x": times,
        "open": [c["open"] for c in candles], "high": [c["high"] for c in candles],
        "low": [c["low"] for c in candles], "close": closes,
        "increasing": {"line": {"color": UP}}, "decreasing": {"line": {"color": DOWN}},
    }]

    def line(name: str, ys: Sequence[float | None], color: str, dash: str = "solid") -> None:
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": times, "y": list(ys),
                     "line": {"color": color, "width": 1.4, "dash": dash}, "connectgaps": False})

    if "ema" in chosen:
        line("EMA 20", ema(closes, 20), "#7c3aed")
    if "ma" in chosen:
        line("MA 20", sma(closes, 20), "#0284c7")
        line("MA 50", sma(closes, 50), "#ea580c")
    if "bollinger" in chosen:
        _, up, low = bollinger(closes, 20, 2.0)
        line("Bollinger upper", up, "#64748b", "dot")
        line("Bollinger lower", low, "#64748b", "dot")
    if "vwap" in chosen:
        pts = sorted((t, v) for r in vwap if (t := row_time(r)) and (v := _f(r.get("vwap"))) is not None)
        data.append({"type": "scatter", "mode": "lines", "name": "VWAP",
                     "x": [p[0] for p in pts], "y": [p[1] for p in pts],
                     "line": {"color": "#ca8a04", "width": 1.6}})
    if "anomalies" in chosen:
        marks = [(t, _f(r.get("price", r.get("close")))) for r in anomalies if (t := row_time(r))]
        data.append({"type": "scatter", "mode": "markers", "name": "Anomalies",
                     "x": [m[0] for m in marks], "y": [m[1] for m in marks],
                     "text": [str(r.get("kind") or r.get("reason") or "anomaly") for r in anomalies if row_time(r)],
                     "marker": {"symbol": "x", "size": 11, "color": "#db2777"}})
    if "predictions" in chosen:
        for name, right, colour in (("Prediction right", True, UP), ("Prediction wrong", False, DOWN)):
            sel = [r for r in predictions if row_time(r) and bool(r.get("correct")) is right]
            data.append({
                "type": "scatter", "mode": "markers", "name": name,
                "x": [row_time(r) for r in sel],
                "y": [_f(r.get("price", r.get("close"))) for r in sel],
                "text": [str(r.get("direction", "")) for r in sel],
                "marker": {"size": 10, "color": colour, "symbol": [
                    "triangle-up" if str(r.get("direction", "")).lower() in ("up", "1", "true") else "triangle-down"
                    for r in sel]},
            })
    layout = {
        "title": {"text": title}, "height": height, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "xaxis": {"rangeslider": {"visible": False}, "type": "date", "title": {"text": "time (UTC)"}},
        "yaxis": {"title": {"text": "price"}}, "legend": {"orientation": "h"},
        "uirevision": "keep",
    }
    return {"data": data, "layout": layout}


def empty_overlays(
    candles: Sequence[Mapping[str, Any]],
    overlays: Iterable[str],
    *,
    vwap: Sequence[Mapping[str, Any]] = (),
    anomalies: Sequence[Mapping[str, Any]] = (),
    predictions: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """What each chosen data overlay (VWAP, anomalies, predictions) has nothing to draw for, in
    the candles' time range — the page says so rather than show a toggle that draws nothing."""
    chosen = set(overlays)
    times = [c["time"] for c in candles if c.get("time")]
    if not times:
        return []
    lo, hi = min(times), max(times)

    def inside(rows: Sequence[Mapping[str, Any]]) -> bool:
        return any((t := row_time(r)) and lo <= t <= hi for r in rows)

    notes = []
    if "vwap" in chosen and not inside(vwap):
        notes.append("VWAP: no VWAP window for this coin in the shown range (silver.vwap "
                     "holds the windows of the streamed trades only)")
    if "anomalies" in chosen and not inside(anomalies):
        notes.append("Anomalies: none flagged in the shown range")
    if "predictions" in chosen and not inside(predictions):
        notes.append("Predictions: no scored forecast of the champion model in the shown range")
    return notes


def lines_figure(series: Mapping[str, Sequence[Mapping[str, Any]]], *, key: str, title: str = "",
                 ytitle: str = "", height: int = 420, normalise: bool = False,
                 kind: str = "lines") -> dict[str, Any]:
    """One line (or bar) trace per series name; ``normalise`` rebases each to 100 at its first
    point (the Compare page)."""
    data = []
    for name, rows in series.items():
        pts = sorted((t, v) for r in rows if (t := row_time(r)) and (v := _f(r.get(key))) is not None)
        ys = [p[1] for p in pts]
        if normalise and ys and ys[0]:
            ys = [100.0 * y / ys[0] for y in ys]
        trace: dict[str, Any] = {"name": name, "x": [p[0] for p in pts], "y": ys}
        trace.update({"type": "bar"} if kind == "bar" else {"type": "scatter", "mode": "lines"})
        data.append(trace)
    return {"data": data, "layout": {
        "title": {"text": title}, "height": height, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "xaxis": {"type": "date", "title": {"text": "time (UTC)"}}, "yaxis": {"title": {"text": ytitle}},
        "legend": {"orientation": "h"}, "barmode": "group"}}


def gauge_figure(value: float | None, label: str, height: int = 280) -> dict[str, Any]:
    """The Fear & Greed gauge (0 … 100)."""
    return {"data": [{
        "type": "indicator", "mode": "gauge+number", "name": "Fear & Greed",
        "value": value if value is not None else 0, "title": {"text": label},
        "gauge": {"axis": {"range": [0, 100]}, "bar": {"color": "#0f172a"}, "steps": [
            {"range": [0, 25], "color": "#dc2626"}, {"range": [25, 45], "color": "#f97316"},
            {"range": [45, 55], "color": "#eab308"}, {"range": [55, 75], "color": "#84cc16"},
            {"range": [75, 100], "color": "#16a34a"}]},
    }], "layout": {"height": height, "margin": {"l": 30, "r": 30, "t": 50, "b": 10}}}


def overlay_price_figure(index: Sequence[Mapping[str, Any]], prices: Sequence[Mapping[str, Any]],
                         *, title: str = "", height: int = 420) -> dict[str, Any]:
    """Fear & Greed history (left axis) with a price (right axis)."""
    idx = sorted((t, v) for r in index if (t := row_time(r)) and (v := _f(r.get("value"))) is not None)
    px = sorted((t, v) for r in prices if (t := row_time(r)) and (v := _f(r.get("close"))) is not None)
    return {"data": [
        {"type": "scatter", "mode": "lines", "name": "Fear & Greed", "x": [p[0] for p in idx],
         "y": [p[1] for p in idx], "line": {"color": "#7c3aed"}},
        {"type": "scatter", "mode": "lines", "name": "Price", "x": [p[0] for p in px],
         "y": [p[1] for p in px], "yaxis": "y2", "line": {"color": "#0f172a"}},
    ], "layout": {
        "title": {"text": title}, "height": height, "margin": {"l": 50, "r": 60, "t": 40, "b": 40},
        "xaxis": {"type": "date", "title": {"text": "time (UTC)"}},
        "yaxis": {"title": {"text": "index"}, "range": [0, 100]},
        "yaxis2": {"title": {"text": "price"}, "overlaying": "y", "side": "right"},
        "legend": {"orientation": "h"}}}


def _first(row: dict[str, Any], *keys: str) -> Any:
    return next((row[k] for k in keys if row.get(k) is not None), None)


def calibration_bins(value: Any) -> list[dict[str, Any]]:
    """The calibration JSON of an evaluation as ``[{predicted, observed}]``.

    ``cryptolake.ml.evaluation.calibration_table`` writes a list of bins
    ``{bin_low, bin_high, n, mean_pred, frac_up}``; a dict of parallel lists
    (``predicted``/``observed`` or ``prob_pred``/``prob_true``, as scikit-learn names them) is
    read too."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, dict):
        xs = value.get("predicted") or value.get("prob_pred") or value.get("mean_predicted") or []
        ys = value.get("observed") or value.get("prob_true") or value.get("fraction_positive") or []
        return [{"predicted": x, "observed": y} for x, y in zip(xs, ys, strict=False)]
    if isinstance(value, list):
        out = []
        for b in value:
            if isinstance(b, dict):
                out.append({"predicted": _first(b, "mean_pred", "predicted", "prob_pred", "mean_predicted"),
                            "observed": _first(b, "frac_up", "observed", "prob_true", "fraction_positive")})
        return out
    return []


def calibration_figure(bins: Mapping[str, Sequence[Mapping[str, Any]]], height: int = 360) -> dict[str, Any]:
    """Reliability diagram: predicted probability (x) against observed frequency (y), per model,
    with the diagonal of perfect calibration."""
    data: list[dict[str, Any]] = [{"type": "scatter", "mode": "lines", "name": "perfect",
                                   "x": [0, 1], "y": [0, 1], "line": {"dash": "dot", "color": "#94a3b8"}}]
    for model, rows in bins.items():
        pts: list[tuple[float, float]] = []
        for r in rows:
            p, o = _f(r.get("predicted")), _f(r.get("observed"))
            if p is not None and o is not None:
                pts.append((p, o))
        pts.sort()
        data.append({"type": "scatter", "mode": "lines+markers", "name": model,
                     "x": [p[0] for p in pts], "y": [p[1] for p in pts]})
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
        "xaxis": {"title": {"text": "predicted probability of up"}, "range": [0, 1]},
        "yaxis": {"title": {"text": "observed frequency"}, "range": [0, 1]},
        "legend": {"orientation": "h"}}}


def with_empty_note(figure: dict[str, Any], text: str = "No data for this selection yet") -> dict[str, Any]:
    """``figure`` with a centred note (and no axes) when none of its traces has a point, so an
    empty chart says why instead of showing blank axes."""
    def points(t: dict[str, Any]) -> int:
        return len(t.get("x") or t.get("y") or ([] if t.get("type") != "indicator" else [1]))
    if any(points(t) for t in figure.get("data", []) if t.get("name") != "perfect"):
        return figure
    layout = dict(figure.get("layout", {}))
    layout["annotations"] = [{"text": text, "showarrow": False, "xref": "paper", "yref": "paper",
                              "x": 0.5, "y": 0.5, "font": {"size": 16, "color": "#64748b"}}]
    layout["xaxis"] = {**layout.get("xaxis", {}), "visible": False}
    layout["yaxis"] = {**layout.get("yaxis", {}), "visible": False}
    return {**figure, "layout": layout}
