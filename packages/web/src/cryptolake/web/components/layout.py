"""The frame of every page: navigation, the as-of selector, the unreachable and stale banners."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web import routes


def nav() -> rx.Component:
    return rx.hstack(
        rx.heading("CryptoLake", size="5", margin_right="1.5em"),
        *[rx.link(title, href=path, id=f"nav-{path.strip('/') or 'market'}", size="3")
          for path, title in routes.NAV],
        spacing="4", align="center", padding="0.8em 1.2em",
        border_bottom="1px solid var(--gray-5)", width="100%", wrap="wrap",
    )


def as_of_selector(state: Any) -> rx.Component:
    return rx.hstack(
        rx.text("As of", weight="bold"),
        rx.input(placeholder="now — or a time (YYYY-MM-DD HH:MM UTC) or a snapshot id",
                 value=state.as_of_text, on_change=state.set_as_of_text, id="asof-input",
                 width="26em"),
        rx.button("Apply", on_click=state.apply_as_of, id="asof-apply"),
        rx.button("Now", on_click=state.clear_as_of, variant="soft", id="asof-now"),
        rx.text("showing: ", rx.el.span(state.as_of_label, id="asof-label"), size="2", color_scheme="gray"),
        spacing="3", align="center", wrap="wrap",
    )


def banners(state: Any) -> rx.Component:
    return rx.vstack(
        rx.cond(
            state.api_down,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle_alert")),
                rx.callout.text("The API is unreachable: the figures below are not current. "
                                "Retrying…", weight="bold"),
                rx.callout.text(state.api_error, size="1"),
                color_scheme="red", id="banner-unreachable", width="100%",
            ),
        ),
        rx.cond(
            state.stale & ~state.api_down,
            rx.callout(state.stale_text, icon="clock", color_scheme="amber", id="banner-stale",
                       width="100%"),
        ),
        rx.foreach(state.problems, lambda p: rx.callout(p, icon="info", color_scheme="orange",
                                                        size="1", class_name="problem", width="100%")),
        width="100%", spacing="2",
    )


def page(title: str, state: Any, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        nav(),
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="7", id="page-title"),
                rx.spacer(),
                rx.cond(state.loading, rx.spinner(), rx.text("updated ", state.updated_at,
                                                             size="1", color_scheme="gray", id="updated-at")),
                width="100%", align="center",
            ),
            as_of_selector(state),
            banners(state),
            *children,
            width="100%", max_width="1400px", padding="1em 1.2em", spacing="4",
        ),
        width="100%", spacing="0", align="center",
    )


def stat(label: str, value: Any, *, id: str = "", hint: Any = "") -> rx.Component:
    return rx.card(
        rx.text(label, size="1", color_scheme="gray"),
        rx.heading(value, size="6", id=id),
        rx.text(hint, size="1", color_scheme="gray"),
        min_width="11em",
    )


def table(columns: list[tuple[str, str]], rows: Any, *, id: str, key: str = "") -> rx.Component:
    """A table of pre-formatted string rows (``list[dict[str, str]]``); ``columns`` are
    (field, header). Each row gets ``id=<id>-<row[key]>``, each cell the class ``c-<field>``."""

    def row(r: Any) -> rx.Component:
        cells = [rx.table.cell(r[f], class_name=f"c-{f}") for f, _ in columns]
        if key:
            return rx.table.row(*cells, id=f"{id}-" + r[key].to(str))
        return rx.table.row(*cells)

    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for _, h in columns])),
        rx.table.body(rx.foreach(rows, row)),
        id=id, width="100%", size="1",
    )


def chart(figure: Any, *, id: str) -> rx.Component:
    return rx.box(rx.plotly(data=figure, use_resize_handler=True, width="100%"), id=id, width="100%")
