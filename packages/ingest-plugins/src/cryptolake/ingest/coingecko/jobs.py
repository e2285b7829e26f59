"""The CoinGecko source jobs."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from cryptolake.core import JobContext, JobResult, TransientError
from cryptolake.ingest._job import Tally, open_writer
from cryptolake.ingest._records import Record, Reject, dt_to_ms
from cryptolake.ingest.coingecko import client as api
from cryptolake.ingest.coingecko import parse
from cryptolake.ingest.coingecko.config import MarketChartConfig, MarketsConfig
from cryptolake.ingest.http import MalformedResponse

log = logging.getLogger(__name__)


def _take(writer: Any, tally: Tally, items: Any, ctx: JobContext, fetched_ms: int) -> None:
    lo = dt_to_ms(ctx.start) if ctx.start else None
    hi = dt_to_ms(ctx.end) if ctx.end else None
    for item in items:
        if isinstance(item, Reject):
            tally.records_in += 1
            tally.rejected += 1
            writer.reject(item)
            continue
        assert isinstance(item, Record)
        if (lo is not None and item.event_ms < lo) or (hi is not None and item.event_ms >= hi):
            continue
        tally.records_in += 1
        writer.add(item, ingested_ms=fetched_ms)


class MarketChart:
    """``/coins/{id}/market_chart`` daily and hourly → ``bronze.coingecko_market_chart``.

    Incremental: asks for the days since the newest stored point (plus one for overlap; the
    writer drops what is already stored). ``--from`` overrides the start.
    """

    def __init__(self, config: MarketChartConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        cfg = self.config
        writer = open_writer(ctx, cfg.namespace)
        tally = Tally()
        now = datetime.now(UTC)
        plan = [(c, g) for c in cfg.coins for g in cfg.granularities]
        asked: dict[str, Any] = {}
        failed: list[str] = []
        with api.client(cfg) as http:
            for n, (coin, gran) in enumerate(plan):
                if ctx.start is not None:
                    since = ctx.start
                else:
                    since = writer.last_time(
                        parse.MARKET_CHART,
                        coin_id=coin,
                        granularity=gran,
                        vs_currency=cfg.vs_currency,
                    )
                initial = cfg.initial_days_daily if gran == "daily" else cfg.initial_days_hourly
                days = (
                    initial
                    if since is None
                    else max(1, math.ceil((now - since).total_seconds() / 86400) + 1)
                )
                if gran == "hourly":
                    days = max(2, min(days, 90))  # CoinGecko's hourly range
                asked[f"{coin}/{gran}"] = days
                ctx.report(n, len(plan), f"{coin} {gran} ({days} days)")
                try:
                    resp = api.market_chart(http, coin, cfg.vs_currency, days, gran)
                except TransientError as exc:
                    # one coin failing must not stop the others; the next run fills it in
                    log.error("coingecko %s %s not fetched: %s", coin, gran, exc)
                    failed.append(f"{coin}/{gran}: {exc}")
                    continue
                except MalformedResponse as exc:
                    tally.reject_malformed(writer, exc, parse.LAYOUT_CHART, parse.MARKET_CHART)
                    continue
                items = parse.market_chart_records(
                    resp.data, coin, vs_currency=cfg.vs_currency, granularity=gran, origin=resp.url
                )
                _take(writer, tally, items, ctx, resp.fetched_ms)
                writer.flush()
            tally.extra["rest"] = dict(http.stats)
        tally.extra["days_requested"] = asked
        tally.extra["failed_requests"] = failed
        if failed and len(failed) == len(plan):
            raise TransientError(f"every CoinGecko request failed, e.g. {failed[0]}")
        ctx.report(len(plan), len(plan), "done")
        return tally.result(writer)


class Markets:
    """``/coins/markets`` snapshot of the configured coins → ``bronze.coingecko_markets``."""

    def __init__(self, config: MarketsConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        cfg = self.config
        writer = open_writer(ctx, cfg.namespace)
        tally = Tally()
        with api.client(cfg) as http:
            try:
                resp = api.markets(http, cfg.coins, cfg.vs_currency, cfg.per_page)
            except MalformedResponse as exc:
                tally.reject_malformed(writer, exc, parse.LAYOUT_MARKETS, parse.MARKETS)
            else:
                items = parse.market_records(
                    resp.data, vs_currency=cfg.vs_currency, origin=resp.url, coins=set(cfg.coins)
                )
                _take(writer, tally, items, ctx, resp.fetched_ms)
            writer.flush()
            tally.extra["rest"] = dict(http.stats)
        return tally.result(writer)
