"""Compare: normalised prices of several coins, side-by-side metrics, volume (marketDaily)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.figures import lines_figure
from cryptolake.web.graphql import nodes
from cryptolake.web.states.base import PageState, to_figure

#: how many coins are compared when the visitor has chosen none: the first ones the API lists
DEFAULT_COUNT = 3


def metrics_row(symbol: str, days: list[dict[str, Any]]) -> dict[str, str]:
    """The newest day of one coin as the Compare table shows it."""
    last = max(days, key=lambda d: str(d.get("date")), default={})
    return {
        "symbol": symbol, "date": fmt.utc(last.get("date"), date_only=True),
        "price": fmt.price(last.get("price")), "change": fmt.percent(last.get("change1d"), fraction=True),
        "ma7": fmt.price(last.get("ma7d")), "ma30": fmt.price(last.get("ma30d")),
        "volatility": fmt.percent(last.get("volatility7d"), fraction=True, signed=False),
        "market_cap": fmt.compact(last.get("marketCap")),
        "volume": fmt.compact(last.get("totalVolume") or last.get("exchangeVolume")),
    }


class CompareState(PageState, rx.State):
    available: list[str] = []
    chosen: list[str] = []
    _picked: bool = False  # the visitor has toggled a coin: keep their choice, even if empty
    rows: list[dict[str, str]] = []
    prices: go.Figure = go.Figure()
    volumes: go.Figure = go.Figure()

    async def _load(self) -> None:
        syms = await self._gql(queries.OVERVIEW_SYMBOLS, quiet=True)
        if syms and syms.get("marketOverview"):
            listed = [str(r["symbol"]) for r in syms["marketOverview"]]  # the API's order
            self.available = sorted(set(listed))
            if not self._picked:
                self.chosen = list(dict.fromkeys(listed))[:DEFAULT_COUNT]
            else:
                self.chosen = [s for s in self.chosen if s in self.available]
        series: dict[str, list[dict[str, Any]]] = {}
        rows = []
        for sym in self.chosen:
            data = await self._gql(queries.COMPARE, {"symbol": sym})
            if data is None:
                return
            days = [{**d, "time": d.get("date")} for d in nodes(data.get("marketDaily"))]
            series[sym] = days
            rows.append(metrics_row(sym, days))
        self.rows = rows
        self.prices = to_figure(lines_figure(series, key="price", normalise=True,
                                             title="price, rebased to 100", ytitle="index"))
        vol = {s: [{**d, "v": d.get("totalVolume") or d.get("exchangeVolume")} for d in days]
               for s, days in series.items()}
        self.volumes = to_figure(lines_figure(vol, key="v", kind="bar", title="volume", height=320))

    @rx.event
    async def toggle(self, symbol: str) -> None:
        self._picked = True
        self.chosen = ([s for s in self.chosen if s != symbol] if symbol in self.chosen
                       else [*self.chosen, symbol])
        await self._refresh()
