"""Fear & Greed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import chart, page, stat
from cryptolake.web.states.fear_greed import FearGreedState

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = FearGreedState


def fear_greed_page() -> rx.Component:
    return page(
        "Fear & Greed", S,
        rx.hstack(
            stat("Latest index", S.value, id="fg-value", hint=S.classification),
            stat("Day", S.date, id="fg-date"),
            stat("Days of history", S.days, id="fg-days"),
            spacing="4", wrap="wrap",
        ),
        chart(S.gauge, id="chart-gauge"),
        chart(S.history, id="chart-fear-greed"),
    )
