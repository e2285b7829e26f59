"""Signals per coin."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import page, table
from cryptolake.web.states.signals import SignalsState

COLUMNS = [("symbol", "Coin"), ("model", "Champion"), ("direction", "Direction"),
           ("prob", "P(up)"), ("sentiment", "Sentiment (Fear & Greed)"), ("change", "1 d change"),
           ("reliability", "Measured accuracy (95 % interval)"), ("beats", "Beats baseline")]

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = SignalsState


def signals_page() -> rx.Component:
    return page("Signals", S, table(COLUMNS, S.rows, id="signals", key="symbol"))
