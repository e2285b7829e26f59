"""Charts: candlesticks of any coin and interval with toggled overlays, anomaly and prediction
markers, and the forming candle pushed live. Interval, coin and overlays persist in the browser
(localStorage)."""

from __future__ import annotations

import bisect
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import queries
from cryptolake.web.figures import (
    INTERVALS,
    OVERLAYS,
    candles_figure,
    empty_overlays,
    normalise_candles,
    recent,
    row_time,
)
from cryptolake.web.graphql import nodes
from cryptolake.web.settings import get_web_settings
from cryptolake.web.states.base import PageState, to_figure
from cryptolake.web.states.live import KEEP, LiveCandles

DEFAULT_OVERLAYS = "ema,vwap"


def price_at(candles: list[dict[str, Any]], time: str | None) -> float | None:
    """The close of the candle open at ``time`` (or the last one before it)."""
    if not time or not candles:
        return None
    times = [c["time"] for c in candles]
    i = bisect.bisect_right(times, time) - 1
    return float(candles[i]["close"]) if i >= 0 else None


class ChartsState(LiveCandles, PageState, rx.State):
    symbols: list[str] = [get_web_settings().default_symbol]
    symbol: str = get_web_settings().default_symbol
    interval: str = "1h"
    overlays: list[str] = DEFAULT_OVERLAYS.split(",")
    figure: go.Figure = go.Figure()
    candle_count: int = 0
    last_candle: str = ""
    #: overlays that are on but have nothing to draw in the shown range, said in words
    overlay_note: str = ""

    saved_symbol: str = rx.LocalStorage("", name="cryptolake.charts.symbol")
    saved_interval: str = rx.LocalStorage("", name="cryptolake.charts.interval")
    saved_overlays: str = rx.LocalStorage(DEFAULT_OVERLAYS, name="cryptolake.charts.overlays")

    _vwap: list[dict[str, Any]] = []
    _anomalies: list[dict[str, Any]] = []
    _predictions: list[dict[str, Any]] = []

    @rx.var
    def interval_names(self) -> list[str]:
        return list(INTERVALS)

    def _restore(self) -> None:
        if self.saved_interval in INTERVALS:
            self.interval = self.saved_interval
        if self.saved_symbol:
            self.symbol = self.saved_symbol
        self.overlays = [o for o in (self.saved_overlays or "").split(",") if o in OVERLAYS]

    async def _load(self) -> None:
        self._restore()
        coins = await self._gql(queries.COINS, quiet=True)
        if coins and coins.get("coins"):
            self.symbols = sorted({str(c["symbol"]) for c in coins["coins"]} | {self.symbol})
        data = await self._gql(queries.CHART, {"symbol": self.symbol, "interval": self.interval,
                                               "first": KEEP})
        if data is None:
            return
        self._remember_cursor(data.get("candles"))
        self._candles = recent(normalise_candles(nodes(data.get("candles"))), INTERVALS[self.interval], KEEP)
        self._vwap = [{"time": v.get("windowEnd"), "vwap": v.get("vwap")} for v in nodes(data.get("vwap"))]
        self._anomalies = [{"time": a.get("openTime"),
                            "price": price_at(self._candles, row_time({"time": a.get("openTime")})),
                            "kind": f"z = {a.get('zscore'):.2f}" if a.get("zscore") is not None else "anomaly"}
                           for a in nodes(data.get("anomalies"))]
        self._predictions = await self._load_predictions()
        self._redraw()

    async def _load_predictions(self) -> list[dict[str, Any]]:
        dual = await self._gql(queries.DUAL, {"symbol": self.symbol}, quiet=True)
        champion = ((dual or {}).get("dualPrediction") or {}).get("champion") or {}
        if not champion.get("modelName"):
            return []
        hist = await self._gql(queries.CHART_PREDICTIONS,
                               {"model": champion["modelName"], "symbol": self.symbol}, quiet=True)
        out = []
        for p in nodes((hist or {}).get("predictionHistory")):
            if p.get("hit") is None:
                continue  # not scored yet
            t = row_time({"time": p.get("issuedAt")})
            out.append({"time": p.get("issuedAt"), "price": price_at(self._candles, t),
                        "direction": "up" if (p.get("probUp") or 0) >= 0.5 else "down",
                        "correct": bool(p.get("hit"))})
        return out

    def _redraw(self) -> None:
        self.figure = to_figure(candles_figure(
            self._candles, self.overlays, vwap=self._vwap, anomalies=self._anomalies,
            predictions=self._predictions, title=f"{self.symbol} {self.interval}"))
        self.overlay_note = "; ".join(empty_overlays(
            self._candles, self.overlays, vwap=self._vwap, anomalies=self._anomalies,
            predictions=self._predictions))
        self.candle_count = len(self._candles)
        self.last_candle = self._candles[-1]["time"] if self._candles else ""

    def _live_target(self) -> tuple[str, str] | None:
        return None if self._as_of else (self.symbol, self.interval)

    def _live_events(self) -> list[Any]:
        return [ChartsState.follow_live]

    # ----------------------------------------------------------------------------- events
    @rx.event
    def toggle_overlay(self, name: str) -> None:
        if name not in OVERLAYS:
            return
        self.overlays = ([o for o in self.overlays if o != name] if name in self.overlays
                         else [*self.overlays, name])
        self.saved_overlays = ",".join(self.overlays)
        self._redraw()

    @rx.event
    async def set_interval(self, value: str):  # type: ignore[no-untyped-def]
        if value not in INTERVALS:
            return None
        self.interval = value
        self.saved_interval = value
        self._stop_live()
        await self._refresh()
        return ChartsState.follow_live

    @rx.event
    async def set_symbol(self, value: str):  # type: ignore[no-untyped-def]
        self.symbol = value
        self.saved_symbol = value
        self._stop_live()
        await self._refresh()
        return ChartsState.follow_live
