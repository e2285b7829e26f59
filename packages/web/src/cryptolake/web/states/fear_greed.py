"""Fear & Greed: today's gauge and the history with the BTC price overlaid."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.figures import gauge_figure, overlay_price_figure
from cryptolake.web.graphql import nodes
from cryptolake.web.settings import get_web_settings
from cryptolake.web.states.base import PageState, to_figure


class FearGreedState(PageState, rx.State):
    value: str = fmt.MISSING
    classification: str = ""
    date: str = ""
    days: int = 0
    gauge: go.Figure = go.Figure()
    history: go.Figure = go.Figure()
    symbol: str = get_web_settings().default_symbol

    async def _load(self) -> None:
        data = await self._gql(queries.FEAR_GREED, {"symbol": self.symbol})
        if data is None:
            return
        idx = [{**d, "time": d.get("date")} for d in nodes(data.get("fearGreed"))]
        prices = [{"time": d.get("date"), "close": d.get("price")} for d in nodes(data.get("marketDaily"))]
        latest = max(idx, key=lambda d: str(d.get("date")), default=None)
        self.days = len(idx)
        if latest is None:
            self.value, self.classification, self.date = fmt.MISSING, "no data", ""
        else:
            self.value = str(latest.get("value"))
            self.classification = str(latest.get("classification"))
            self.date = fmt.utc(latest.get("date"), date_only=True)
        self.gauge = to_figure(gauge_figure(float(latest["value"]) if latest else None,
                                            f"{self.classification} ({self.date})"))
        self.history = to_figure(overlay_price_figure(idx, prices,
                                                      title=f"Fear & Greed and {self.symbol}"))
