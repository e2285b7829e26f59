"""What every page state has: the API client, the as-of selector, the unreachable and stale
banners, and recovery when the API comes back.

``PageState`` is a Reflex *mixin*: each page's state (``class MarketState(PageState, rx.State)``)
gets its own copy of these vars, so one page's as-of never leaks into another's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, ClassVar

import plotly.graph_objects as go
import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.asof import AsOfError, label, parse_as_of
from cryptolake.web.figures import with_empty_note
from cryptolake.web.graphql import ApiUnreachableError, GraphQLClient, GraphQLError, nodes
from cryptolake.web.settings import get_web_settings

log = logging.getLogger(__name__)

#: how often a page whose API is down tries again, and for how long a page keeps watching
RETRY_S = 2.0
WATCH_FOR_S = 3600.0


def to_figure(figure: dict[str, Any]) -> go.Figure:
    """A figure dictionary of :mod:`cryptolake.web.figures` as a Plotly figure for ``rx.plotly``,
    with a note instead of blank axes when it has no data."""
    return go.Figure(with_empty_note(figure))


def client() -> GraphQLClient:
    s = get_web_settings()
    return GraphQLClient(s.api_url, timeout=s.api_timeout_s)


class PageState(rx.State, mixin=True):
    #: the API did not answer; the page shows the unreachable banner instead of empty charts
    api_down: bool = False
    api_error: str = ""
    #: the data behind the page is older than the stale limit, or not trustworthy (dataHealth)
    stale: bool = False
    stale_text: str = ""
    #: messages of GraphQL errors (a field the API refused, an unknown snapshot…)
    problems: list[str] = []
    as_of_text: str = ""
    as_of_label: str = "now"
    updated_at: str = ""
    loading: bool = False
    load_ms: int = 0

    _as_of: dict[str, Any] | None = None
    _session: int = 0
    #: table-name prefixes whose freshness decides the stale banner of this page
    stale_tables: ClassVar[tuple[str, ...]] = ("gold.", "silver.")

    # ------------------------------------------------------------------ talking to the API
    async def _gql(self, document: str, variables: dict[str, Any] | None = None,
                   *, headers: dict[str, str] | None = None, quiet: bool = False) -> dict[str, Any] | None:
        """Run one query; on an unreachable API set the banner and return None; on GraphQL
        errors record them (unless ``quiet``) and return the partial data."""
        vars_ = dict(variables or {})
        if "$asOf" in document:
            vars_.setdefault("asOf", self._as_of)
        try:
            answer = await client().execute(document, vars_, headers=headers)
        except ApiUnreachableError as exc:
            self.api_down = True
            self.api_error = str(exc)
            return None
        except GraphQLError as exc:
            if not quiet:
                self.problems = [*self.problems, *exc.messages][-6:]
            return exc.data
        self.api_down = False
        self.api_error = ""
        return answer.data

    async def _check_health(self) -> None:
        data = await self._gql(queries.HEALTH, quiet=True)
        if not data or not data.get("dataHealth"):
            self.stale = False
            self.stale_text = ""
            return
        health = data["dataHealth"]
        limit = get_web_settings().stale_after_s
        lagging = [t for t in health.get("tables") or []
                   if str(t.get("table", "")).startswith(self.stale_tables)
                   or f"{t.get('layer')}.".startswith(self.stale_tables)]
        # the freshest of the page's tables: stale when even that one is older than the limit
        lags = [t for t in lagging if t.get("freshnessLagSeconds") is not None]
        freshest = min(lags, key=lambda t: t["freshnessLagSeconds"], default=None)
        texts = []
        if freshest is not None and freshest["freshnessLagSeconds"] > limit:
            texts.append(f"Stale data: the newest event (in {freshest.get('table')}) is "
                         f"{fmt.duration(freshest['freshnessLagSeconds'])} old "
                         f"({fmt.utc(freshest.get('newestEvent'))}).")
        if health.get("trustworthy") is False:
            failing = health.get("failingChecks") or 0
            run = health.get("lastPipelineRun") or {}
            texts.append(f"Not trustworthy right now: {failing} failing check(s); last pipeline run "
                         f"{run.get('status', 'unknown')}.")
        self.stale = bool(texts)
        self.stale_text = " ".join(texts)

    async def _load(self) -> None:
        """Read the page's data (each page overrides)."""

    async def _refresh(self) -> None:
        t0 = time.monotonic()
        self.loading = True
        self.problems = []
        await self._check_health()
        if not self.api_down:
            await self._load()
        self.loading = False
        self.load_ms = int((time.monotonic() - t0) * 1000)
        self.updated_at = fmt.utc(time.time(), seconds=True)

    # --------------------------------------------------------------------------- events
    @rx.event
    async def on_load(self):  # type: ignore[no-untyped-def]
        self._session += 1
        await self._refresh()
        return [type(self).watch_api, *self._live_events()]

    def _live_events(self) -> list[Any]:
        """Background tasks a page starts on load (the live subscriptions)."""
        return []

    @rx.event
    async def refresh(self) -> None:
        await self._refresh()

    @rx.event
    def set_as_of_text(self, value: str) -> None:
        self.as_of_text = value

    @rx.event
    async def apply_as_of(self) -> None:
        try:
            spec = parse_as_of(self.as_of_text)
        except AsOfError as exc:
            self.problems = [str(exc)]
            return
        self._as_of = spec
        self.as_of_label = label(spec)
        await self._refresh()

    @rx.event
    async def clear_as_of(self) -> None:
        self.as_of_text = ""
        self._as_of = None
        self.as_of_label = "now"
        await self._refresh()

    @rx.event(background=True)  # type: ignore[operator]
    async def watch_api(self):  # type: ignore[no-untyped-def]
        """While the page is open: when the API is down, retry every RETRY_S and reload the
        page as soon as it answers (the banner goes away by itself)."""
        async with self:
            session = self._session
        deadline = time.monotonic() + WATCH_FOR_S
        while time.monotonic() < deadline:
            await asyncio.sleep(RETRY_S)
            async with self:
                if self._session != session:
                    return
                down = self.api_down
            if not down:
                continue
            try:
                await client().execute("query Ping { __typename }")
            except ApiUnreachableError:
                continue
            except GraphQLError:
                pass
            async with self:
                await self._refresh()


__all__ = ["PageState", "client", "nodes"]
