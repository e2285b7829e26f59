"""The Reflex app: every page of :mod:`cryptolake.web.pages` at its route (:mod:`cryptolake.web.routes`)."""

from __future__ import annotations

import reflex as rx

from cryptolake.web import routes
from cryptolake.web.pages.charts import charts_page
from cryptolake.web.pages.compare import compare_page
from cryptolake.web.pages.fear_greed import fear_greed_page
from cryptolake.web.pages.market import market_page
from cryptolake.web.pages.models import models_page
from cryptolake.web.pages.signals import signals_page
from cryptolake.web.pages.system import system_page
from cryptolake.web.states.charts import ChartsState
from cryptolake.web.states.compare import CompareState
from cryptolake.web.states.fear_greed import FearGreedState
from cryptolake.web.states.market import MarketState
from cryptolake.web.states.models import ModelsState
from cryptolake.web.states.signals import SignalsState
from cryptolake.web.states.system import SystemState

PAGES = (
    (routes.MARKET, market_page, MarketState),
    (routes.CHARTS, charts_page, ChartsState),
    (routes.COMPARE, compare_page, CompareState),
    (routes.FEAR_GREED, fear_greed_page, FearGreedState),
    (routes.SIGNALS, signals_page, SignalsState),
    (routes.SYSTEM, system_page, SystemState),
    (routes.MODELS, models_page, ModelsState),
)
TITLES = dict(routes.NAV)

app = rx.App()
for route, component, state in PAGES:
    app.add_page(component, route=route, title=f"CryptoLake · {TITLES[route]}", on_load=state.on_load)
