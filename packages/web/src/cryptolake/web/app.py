"""The Reflex app: every page of :mod:`cryptolake.web.pages`, routed by :mod:`cryptolake.web.routes`."""

from __future__ import annotations

import reflex as rx


def index() -> rx.Component:
    return rx.text("hello")


app = rx.App()
app.add_page(index, route="/")
