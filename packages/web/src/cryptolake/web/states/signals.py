"""Signals: per coin, the model's direction, the market sentiment and the model's measured
reliability (walk-forward accuracy with its interval)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.graphql import nodes
from cryptolake.web.states.base import PageState


def signal_row(symbol: str, data: dict[str, Any]) -> dict[str, str]:
    champ = ((data.get("dualPrediction") or {}).get("champion")) or {}
    evals = data.get("modelComparison") or []
    ev: dict[str, Any] = next((e for e in evals if e.get("modelName") == champ.get("modelName")), {})
    day = next(iter(nodes(data.get("marketDaily"))), {})
    prob = champ.get("probUp")
    return {
        "symbol": symbol,
        "model": str(champ.get("modelName") or "no model"),
        "direction": fmt.MISSING if prob is None else ("up" if prob >= 0.5 else "down"),
        "prob": fmt.percent(prob, fraction=True, signed=False),
        "sentiment": (f"{day.get('fearGreedValue')} {day.get('fearGreedClass')}"
                      if day.get("fearGreedValue") is not None else fmt.MISSING),
        "change": fmt.percent(day.get("change1d"), fraction=True),
        "reliability": (f"{fmt.percent(ev.get('accuracy'), fraction=True, signed=False)} "
                        f"({fmt.percent(ev.get('ciLow'), fraction=True, signed=False)} … "
                        f"{fmt.percent(ev.get('ciHigh'), fraction=True, signed=False)}, n = {ev.get('n')})"
                        if ev.get("accuracy") is not None else fmt.MISSING),
        "beats": {True: "yes", False: "no"}.get(ev.get("beatsBaseline"), fmt.MISSING),  # type: ignore[arg-type]
    }


class SignalsState(PageState, rx.State):
    rows: list[dict[str, str]] = []

    async def _load(self) -> None:
        syms = await self._gql(queries.OVERVIEW_SYMBOLS)
        if syms is None:
            return
        rows = []
        for sym in sorted(str(r["symbol"]) for r in syms.get("marketOverview") or []):
            market = await self._gql(queries.SIGNAL, {"symbol": sym})
            if market is None and self.api_down:
                return
            dual = await self._gql(queries.DUAL, {"symbol": sym}, quiet=True)
            rows.append(signal_row(sym, {**(dual or {}), **(market or {})}))
        self.rows = rows
