"""Data & system."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web.components.layout import page, stat, table
from cryptolake.web.states.system import SystemState

TABLES = [("layer", "Layer"), ("table", "Table"), ("rows", "Rows"), ("freshness", "Freshness lag"),
          ("newest", "Newest event"), ("snapshot", "Last snapshot"), ("commit", "Committed"),
          ("quality", "Gate"), ("failing", "Failing checks")]
CHECKS = [("layer", "Layer"), ("table", "Table"), ("check", "Check"), ("outcome", "Outcome"),
          ("value", "Value"), ("message", "Why"), ("checked", "Checked")]
RUNS = [("run", "Run"), ("pipeline", "Pipeline"), ("status", "Status"), ("progress", "Progress"),
        ("started", "Started"), ("ended", "Ended"), ("steps", "Steps"), ("error", "Error")]

#: the page state, typed Any: on the class its fields are Vars and its handlers event specs
S: Any = SystemState


def alert_row(a: Any) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(a[f], class_name=f"c-{f}") for f in
          ("severity", "kind", "subject", "message", "raised", "acknowledged")],
        rx.table.cell(rx.cond(a["acknowledged"] == "no",
                              rx.button("Acknowledge", size="1", on_click=S.acknowledge(a["id"])), "")),
        id="alert-" + a["id"].to(str),
    )


def system_page() -> rx.Component:
    return page(
        "Data & system", S,
        rx.hstack(stat("Trustworthy now", S.trustworthy, id="trustworthy"),
                  stat("Failing checks", S.failing_total, id="failing-total"), spacing="4"),
        rx.heading("Tables", size="4"),
        table(TABLES, S.tables, id="health", key="table"),
        rx.heading("Operator actions", size="4"),
        rx.hstack(
            rx.input(placeholder="operator API key", type="password", value=S.operator_key,
                     on_change=S.set_operator_key, id="operator-key", width="22em"),
            rx.cond(S.operator_key != "", rx.badge("key set", color_scheme="green", id="key-set")),
            rx.button("Start a pipeline run", on_click=S.run_pipeline, id="run-pipeline"),
            rx.text(S.action_result, id="action-result"), spacing="3", align="center", wrap="wrap",
        ),
        rx.heading("Alerts", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Severity", "Kind", "Subject", "Message", "Raised", "Acknowledged", "")])),
            rx.table.body(rx.foreach(S.alerts, alert_row)), id="alerts", width="100%", size="1"),
        rx.heading(rx.hstack(rx.text("Pipeline runs"), rx.badge("live: ", S.runs_live, id="runs-live")), size="4"),
        table(RUNS, S.runs, id="runs", key="run"),
        rx.heading("Quality results", size="4"),
        table(CHECKS, S.checks, id="checks"),
    )
