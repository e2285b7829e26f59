"""The Fear & Greed job: the whole history on the first run, then the days since the last."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from cryptolake.core import JobContext, JobResult
from cryptolake.ingest._job import Tally, open_writer
from cryptolake.ingest.coingecko.jobs import _take
from cryptolake.ingest.feargreed import client as api
from cryptolake.ingest.feargreed import parse
from cryptolake.ingest.feargreed.config import FearGreedConfig
from cryptolake.ingest.http import MalformedResponse


class FearGreed:
    def __init__(self, config: FearGreedConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        cfg = self.config
        writer = open_writer(ctx, cfg.namespace)
        tally = Tally()
        since = ctx.start or writer.last_time(parse.FEED)
        limit = (
            0
            if since is None
            else max(2, math.ceil((datetime.now(UTC) - since).total_seconds() / 86400) + 2)
        )
        tally.extra["limit"] = limit
        ctx.report(0, 1, "full history" if limit == 0 else f"last {limit} days")
        with api.client(cfg) as http:
            try:
                resp = api.fng(http, limit)
            except MalformedResponse as exc:
                tally.reject_malformed(writer, exc, parse.LAYOUT, parse.FEED)
            else:
                _take(
                    writer, tally, parse.records(resp.data, origin=resp.url), ctx, resp.fetched_ms
                )
            writer.flush()
            tally.extra["rest"] = dict(http.stats)
        ctx.report(1, 1, "done")
        return tally.result(writer)
