"""Market overview."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import chart, page, table
from cryptolake.web.states.market import MarketState

COLUMNS = [("symbol", "Coin"), ("price", "Price"), ("change", "24 h change"),
           ("volume", "24 h volume"), ("quote_volume", "24 h quote volume"), ("high", "24 h high"),
           ("low", "24 h low"), ("time", "Latest (UTC)")]

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = MarketState


def model_card(title: str, card: Any, id: str) -> rx.Component:
    return rx.card(
        rx.text(title, size="1", color_scheme="gray"),
        rx.heading(card["model"], size="4"),
        rx.text("direction ", rx.el.b(card["direction"]), " · P(up) ", rx.el.b(card["prob"])),
        rx.text("live accuracy ", rx.el.b(card["accuracy"]), " · 95 % interval ", card["interval"], size="2"),
        rx.text("issued ", card["issued"], size="1", color_scheme="gray"),
        id=id, min_width="20em",
    )


def market_page() -> rx.Component:
    return page(
        "Market overview", S,
        table(COLUMNS, S.rows, id="overview", key="symbol"),
        rx.hstack(model_card("Champion", S.champion, "champion"),
                  model_card("Challenger", S.challenger, "challenger"),
                  rx.text(S.models_note, color_scheme="gray"), spacing="4", wrap="wrap"),
        rx.hstack(rx.badge("live: ", S.live_status, id="live-status"),
                  rx.text("pushed updates: ", S.live_updates, size="1"),
                  rx.text(S.last_live_candle, size="1", id="live-last"), spacing="3"),
        chart(S.figure, id="chart-market"),
    )
