"""Compare coins."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import chart, page, table
from cryptolake.web.states.compare import CompareState

COLUMNS = [("symbol", "Coin"), ("date", "Day"), ("price", "Price"), ("change", "1 d change"),
           ("ma7", "MA 7 d"), ("ma30", "MA 30 d"), ("volatility", "Volatility 7 d"),
           ("market_cap", "Market cap"), ("volume", "Volume")]

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = CompareState


def compare_page() -> rx.Component:
    return page(
        "Compare", S,
        rx.hstack(rx.foreach(S.available, lambda s: rx.checkbox(
            s, checked=S.chosen.contains(s), on_change=lambda _v: S.toggle(s))), spacing="4", wrap="wrap"),
        chart(S.prices, id="chart-compare"),
        table(COLUMNS, S.rows, id="compare", key="symbol"),
        chart(S.volumes, id="chart-volume"),
    )
