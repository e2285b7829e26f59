"""Model lab."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import chart, page, table
from cryptolake.web.states.models import ModelsState

COLUMNS = [("model", "Model"), ("symbol", "Coin"), ("horizon", "Horizon"), ("period", "Period"),
           ("n", "n"), ("accuracy", "Accuracy"), ("interval", "95 % interval"), ("brier", "Brier"),
           ("log_loss", "Log loss"), ("baseline", "Best baseline"), ("beats", "Beats it")]
LINEAGE = [("model", "Model"), ("state", "State"), ("trained", "Trained"),
           ("snapshots", "Trained on snapshots")]

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = ModelsState


def models_page() -> rx.Component:
    return page(
        "Model lab", S,
        rx.heading("Walk-forward evaluation: every model against every baseline", size="4"),
        rx.cond(
            S.no_models != "",
            rx.callout(S.no_models, icon="info", color_scheme="blue", id="no-models"),
            rx.vstack(
                table(COLUMNS, S.rows, id="comparison"),
                rx.hstack(chart(S.calibration, id="chart-calibration"),
                          chart(S.over_time, id="chart-over-time"), width="100%", wrap="wrap"),
                width="100%",
            ),
        ),
        rx.heading("Lineage", size="4"),
        rx.text(S.lineage_note, color_scheme="gray", id="lineage-note"),
        table(LINEAGE, S.lineage, id="lineage"),
        rx.heading("Retraining", size="4"),
        rx.hstack(
            rx.text("status: ", rx.el.b(S.retrain_state, id="retrain-state")),
            rx.input(placeholder="operator API key", type="password", value=S.operator_key,
                     on_change=S.set_operator_key, id="operator-key", width="22em"),
            rx.cond(S.operator_key != "", rx.badge("key set", color_scheme="green", id="key-set")),
            rx.button("Retrain", on_click=S.retrain, id="retrain"),
            rx.text(S.action_result, id="action-result"), spacing="3", align="center", wrap="wrap",
        ),
    )
