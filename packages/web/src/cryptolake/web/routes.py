"""The pages' routes and titles, in navigation order."""

from __future__ import annotations

MARKET = "/"
CHARTS = "/charts"
COMPARE = "/compare"
FEAR_GREED = "/fear-greed"
SIGNALS = "/signals"
SYSTEM = "/system"
MODELS = "/models"

NAV: tuple[tuple[str, str], ...] = (
    (MARKET, "Market"),
    (CHARTS, "Charts"),
    (COMPARE, "Compare"),
    (FEAR_GREED, "Fear & Greed"),
    (SIGNALS, "Signals"),
    (SYSTEM, "Data & system"),
    (MODELS, "Model lab"),
)
