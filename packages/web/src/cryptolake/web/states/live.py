"""The live candle: a background task per open page holds one ``candles`` subscription (WebSocket,
graphql-transport-ws) and merges every pushed candle into the chart, without re-querying."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.figures import merge_candle
from cryptolake.web.graphql import ApiError, subscribe
from cryptolake.web.settings import get_web_settings

log = logging.getLogger(__name__)

#: the chart keeps this many candles (the API lets an anonymous reader page 200 rows)
KEEP = 200


class LiveCandles(rx.State, mixin=True):
    live_status: str = "off"
    live_updates: int = 0
    last_live_at: str = ""
    #: the last pushed candle's open time and close, for people and tests
    last_live_candle: str = ""

    _candles: list[dict[str, Any]] = []
    _live_key: str = ""
    #: the cursor of the newest candle read: the subscription replays what closed since, so
    #: nothing pushed between the query and the subscription is missed (and none twice)
    _live_after: str | None = None

    def _remember_cursor(self, connection: Any) -> None:
        edges = (connection or {}).get("edges") or []
        self._live_after = edges[0].get("cursor") if edges else None  # DESC: the newest first

    def _live_target(self) -> tuple[str, str] | None:
        """(symbol, interval) to follow, or None (e.g. while reading an as-of state)."""
        return None

    def _redraw(self) -> None:
        """Rebuild the figure from ``_candles`` (each page overrides)."""

    @rx.event(background=True)  # type: ignore[operator]
    async def follow_live(self):  # type: ignore[no-untyped-def]
        async with self:
            target = self._live_target()
            session = self._session  # type: ignore[attr-defined]
            after = self._live_after
        if target is None:
            return
        key = f"{target[0]}|{target[1]}|{session}|{time.monotonic()}"
        async with self:
            self._live_key = key
        ws_url = get_web_settings().api_ws_url
        backoff = 1.0
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            async with self:
                if self._live_key != key:
                    return
                self.live_status = "connecting"
            async def subscribed() -> None:
                async with self:
                    if self._live_key == key:
                        self.live_status = f"live {target[1]}"

            try:
                async for data in subscribe(ws_url, queries.CANDLES_LIVE,
                                            {"symbol": target[0], "interval": target[1],
                                             "after": after},
                                            on_subscribed=subscribed):
                    candle = data.get("candles") or {}
                    async with self:
                        if self._live_key != key or self._live_target() != target:
                            return
                        self._candles = merge_candle(self._candles, candle, keep=KEEP)
                        self.live_updates += 1
                        self.live_status = f"live {target[1]}"
                        self.last_live_at = fmt.utc(time.time(), seconds=True)
                        self.last_live_candle = (f"{fmt.utc(candle.get('openTime'))} close "
                                                 f"{fmt.price(candle.get('close'))}")
                        self._redraw()
                    backoff = 1.0
            except ApiError as exc:
                log.info("live candles %s: %s", target, exc)
                async with self:
                    if self._live_key != key:
                        return
                    self.live_status = "reconnecting"
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    def _stop_live(self) -> None:
        self._live_key = ""
        self.live_status = "off"
