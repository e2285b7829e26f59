"""Market overview: price, 24 h change and volume per coin; champion vs challenger; live BTC."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.figures import INTERVALS, candles_figure, normalise_candles, recent
from cryptolake.web.graphql import nodes
from cryptolake.web.settings import get_web_settings
from cryptolake.web.states.base import PageState, to_figure
from cryptolake.web.states.live import LiveCandles

LIVE_INTERVAL = "1h"


def overview_row(r: dict[str, Any]) -> dict[str, str]:
    """One coin's overview as the page shows it (also used by the browser tests)."""
    return {
        "symbol": str(r.get("symbol", "")),
        "price": fmt.price(r.get("price")),
        "change": fmt.percent(r.get("change24h"), fraction=True),
        "volume": fmt.thousands(r.get("volume24h"), 2),
        "quote_volume": fmt.thousands(r.get("quoteVolume24h"), 0),
        "high": fmt.price(r.get("high24h")),
        "low": fmt.price(r.get("low24h")),
        "time": fmt.utc(r.get("latestTime")),
    }


def prediction_card(p: dict[str, Any] | None, evals: list[dict[str, Any]]) -> dict[str, str]:
    """A champion's or challenger's forecast with its measured accuracy and interval."""
    if not p:
        return {"model": "none", "direction": fmt.MISSING, "prob": fmt.MISSING,
                "accuracy": fmt.MISSING, "interval": fmt.MISSING, "issued": fmt.MISSING}
    prob = p.get("probUp")
    ev = next((e for e in evals if e.get("modelName") == p.get("modelName")), {})
    return {
        "model": str(p.get("modelName", "")),
        "direction": "up" if (prob or 0) >= 0.5 else "down",
        "prob": fmt.percent(prob, fraction=True, signed=False),
        "accuracy": fmt.percent(ev.get("accuracy"), fraction=True, signed=False),
        "interval": (f"{fmt.percent(ev.get('ciLow'), fraction=True, signed=False)} … "
                     f"{fmt.percent(ev.get('ciHigh'), fraction=True, signed=False)}"),
        "issued": fmt.utc(p.get("issuedAt")),
    }


class MarketState(LiveCandles, PageState, rx.State):
    rows: list[dict[str, str]] = []
    champion: dict[str, str] = prediction_card(None, [])
    challenger: dict[str, str] = prediction_card(None, [])
    models_note: str = ""
    figure: go.Figure = go.Figure()
    symbol: str = get_web_settings().default_symbol

    async def _load(self) -> None:
        data = await self._gql(queries.OVERVIEW, {"symbol": self.symbol, "interval": LIVE_INTERVAL,
                                                  "first": 120})
        if data is None:
            return
        self.rows = [overview_row(r) for r in sorted(data.get("marketOverview") or [],
                                                     key=lambda r: str(r.get("symbol")))]
        self._remember_cursor(data.get("candles"))
        self._candles = recent(normalise_candles(nodes(data.get("candles"))), INTERVALS[LIVE_INTERVAL], 120)
        self._redraw()
        dual = await self._gql(queries.DUAL, {"symbol": self.symbol}, quiet=True)
        if not dual or not dual.get("dualPrediction"):
            self.models_note = "No model forecasts yet: train the models (Model lab → Retrain)."
            self.champion = prediction_card(None, [])
            self.challenger = prediction_card(None, [])
            return
        evals = dual.get("modelComparison") or []
        self.models_note = ""
        self.champion = prediction_card(dual["dualPrediction"].get("champion"), evals)
        self.challenger = prediction_card(dual["dualPrediction"].get("challenger"), evals)

    def _redraw(self) -> None:
        self.figure = to_figure(candles_figure(
            self._candles, title=f"{self.symbol} {LIVE_INTERVAL} (live)", height=420))

    def _live_target(self) -> tuple[str, str] | None:
        return None if self._as_of else (self.symbol, LIVE_INTERVAL)

    def _live_events(self) -> list[Any]:
        return [MarketState.follow_live]
