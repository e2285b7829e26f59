"""Charts: candlesticks with overlays and markers; the forming candle live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import chart, page
from cryptolake.web.figures import INTERVALS, OVERLAY_LABELS
from cryptolake.web.states.charts import ChartsState

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = ChartsState


def charts_page() -> rx.Component:
    return page(
        "Charts", S,
        rx.hstack(
            rx.select(S.symbols, value=S.symbol, on_change=S.set_symbol, id="symbol-select"),
            rx.hstack(*[rx.button(i, size="1", id=f"interval-{i}", on_click=S.set_interval(i),
                                  variant=rx.cond(S.interval == i, "solid", "outline"))
                        for i in INTERVALS], spacing="1"),
            *[rx.checkbox(label, checked=S.overlays.contains(key),
                          on_change=lambda _v, k=key: S.toggle_overlay(k), id=f"overlay-{key}")
              for key, label in OVERLAY_LABELS.items()],
            spacing="4", align="center", wrap="wrap",
        ),
        rx.hstack(rx.badge("live: ", S.live_status, id="live-status"),
                  rx.text("candles: ", rx.el.span(S.candle_count, id="candle-count"), size="1"),
                  rx.text("newest: ", rx.el.span(S.last_candle, id="last-candle"), size="1"),
                  rx.text("pushed updates: ", S.live_updates, size="1"),
                  rx.text(S.last_live_candle, size="1", id="live-last"), spacing="3"),
        rx.text(S.overlay_note, size="1", color_scheme="gray", id="overlay-note"),
        chart(S.figure, id="chart-candles"),
    )
