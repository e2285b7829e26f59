"""Root query fields of the quality domain: check results, alerts, data health."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from cryptolake.api.common import (
    AsOf,
    Connection,
    MissingTableError,
    connection,
    decode_cursor,
    page_size,
    reader,
    utc,
)
from cryptolake.api.errors import BeforeFirstCommitError
from cryptolake.api.lakehouse import Reader
from cryptolake.api.pipeline.types import PipelineRun
from cryptolake.api.quality.types import Alert, DqResult, TableHealth
from cryptolake.api.repositories import market as mrepo
from cryptolake.api.repositories import ops as repo


def _offset(after: str | None) -> int:
    cur = decode_cursor(after, (int,))
    return cur[0] + 1 if cur else 0


def offset_connection(nodes: list[Any], n: int, start: int) -> Connection[Any]:
    numbered = list(enumerate(nodes, start))
    page = connection([x for _, x in numbered], n, lambda x: [0])
    for i, edge in enumerate(page.edges):
        from cryptolake.api.common import encode_cursor

        edge.cursor = encode_cursor([start + i])
    if page.edges:
        page.page_info.end_cursor = page.edges[-1].cursor
        page.page_info.start_cursor = page.edges[0].cursor
    return page


#: the event-time column of each table dataHealth reports on
EVENT_TIME = {
    "silver.trades": "trade_time", "silver.ohlcv_1m": "open_time", "silver.ohlcv_1h": "open_time",
    "silver.market_daily": "date", "silver.fear_greed": "date", "silver.vwap": "window_end",
    "silver.anomalies": "open_time", "gold.fact_price_hourly": "open_time",
    "gold.market_ohlc": "bucket_start", "gold.fact_market_daily": "date",
    "bronze.binance_agg_trades": "trade_time", "bronze.binance_klines": "open_time",
    "bronze.fear_greed": "ts", "bronze.coingecko_market_chart": "ts",
    "bronze.coingecko_markets": "last_updated", "bronze.rejects": "rejected_at", "ops.pipeline_runs": "started_at",
    "ops.dq_results": "checked_at", "ops.alerts": "raised_at",
    "ml.predictions": "issued_at", "ml.models": "trained_at",
}


@strawberry.type(description="Whether the data can be trusted right now, in one call.")
class DataHealth:
    checked_at: datetime
    tables: list[TableHealth]
    last_pipeline_run: PipelineRun | None
    failing_checks: int
    trustworthy: bool = strawberry.field(
        description="the last pipeline run succeeded and no table's latest gate failed")


def dq_node(r: Reader, x: dict[str, Any]) -> DqResult:
    return DqResult(table_=repo.DQ, reader_=r, run_id=x["run_id"], layer=x["layer"], suite=x["suite"],
                    check_name=x["check_name"], table_name=x["table_name"],
                    snapshot_id=strawberry.ID(str(x["snapshot_id"])) if x["snapshot_id"] is not None else None,
                    value=x["value"], outcome=x["outcome"], message=x["message"],
                    checked_at=utc(x["checked_at"]))  # type: ignore[arg-type]


def run_node(r: Reader, x: dict[str, Any]) -> PipelineRun:
    return PipelineRun(table_=repo.RUNS, reader_=r, run_id=x["run_id"], pipeline=x["pipeline"],
                       source=x["source"], via=x["via"], window_start=utc(x["window_start"]),
                       window_end=utc(x["window_end"]), started_at=utc(x["started_at"]),
                       ended_at=utc(x["ended_at"]), status=x["status"], error=x["error"])


@strawberry.type
class QualityQuery:
    @strawberry.field(description="Quality check results; status is pass | warn | fail | error.")
    async def dq_results(
        self, info: Info, layer: str | None = None, table: str | None = None,
        status: str | None = None, run_id: str | None = None, first: int | None = None,
        after: str | None = None, as_of: AsOf | None = None,
    ) -> Connection[DqResult]:
        n = page_size(info, first)
        start = _offset(after)
        r = reader(info, as_of, repo.DQ)
        try:
            rows = await repo.dq_results(r, layer, table, status, run_id, start, n + 1)
        except (MissingTableError, BeforeFirstCommitError):  # none recorded (by then)
            rows = []
        return offset_connection([dq_node(r, x) for x in rows], n, start)

    @strawberry.field(description="Alerts, newest first; `acknowledged` filters on acknowledgement.")
    async def alerts(
        self, info: Info, since: datetime | None = None, acknowledged: bool | None = None,
        first: int | None = None, after: str | None = None, as_of: AsOf | None = None,
    ) -> Connection[Alert]:
        n = page_size(info, first)
        start = _offset(after)
        r = reader(info, as_of, repo.ALERTS)
        keys = info.context.app.keys
        loop = asyncio.get_running_loop()
        acked = await loop.run_in_executor(info.context.app.lakehouse.pool, keys.all_acknowledged)
        try:
            rows = await repo.alerts(r, utc(since), sorted(acked) if acknowledged is True else None,
                                     sorted(acked) if acknowledged is False else None, start, n + 1)
        except (MissingTableError, BeforeFirstCommitError):  # none raised (by then)
            rows = []
        when = await loop.run_in_executor(info.context.app.lakehouse.pool, keys.acknowledged,
                                          [x["alert_id"] for x in rows])
        nodes = [Alert(table_=repo.ALERTS, reader_=r, alert_id=x["alert_id"], run_id=x["run_id"],
                       kind=x["kind"], severity=x["severity"], subject=x["subject"],
                       message=x["message"], raised_at=utc(x["raised_at"]),  # type: ignore[arg-type]
                       acknowledged=x["alert_id"] in when, acknowledged_at=when.get(x["alert_id"]))
                 for x in rows]
        return offset_connection(nodes, n, start)

    @strawberry.field(description=(
        "Per layer and table: rows, last snapshot and commit, newest event and freshness lag, "
        "the latest gate; plus the last pipeline run."))
    async def data_health(self, info: Info, as_of: AsOf | None = None) -> DataHealth:
        ctx = info.context
        r = reader(info, as_of, None)
        lake = ctx.app.lakehouse
        locs = await lake.locations()
        tables = sorted(t for t in locs if t.split(".")[0] in ("bronze", "silver", "gold", "ops", "ml"))
        logs = dict(zip(tables, await asyncio.gather(*(lake.snapshot_log(locs[t]) for t in tables)),
                        strict=True))
        held = []
        for t in tables:
            try:
                await r.snapshot(t)
            except BeforeFirstCommitError:  # as of a time before its first commit: no data then
                continue
            held.append(t)
        tables = held
        timed = [t for t in tables if t in EVENT_TIME and r.read.get(t) is not None]
        newest: dict[str, Any] = {}
        if timed:
            parts = [f"SELECT ? AS t, CAST(max({EVENT_TIME[t]}) AS varchar) AS newest FROM {{t{i}}}"
                     for i, t in enumerate(timed)]
            rows = await r.query(" UNION ALL ".join(parts), {f"t{i}": t for i, t in enumerate(timed)},
                                 list(timed))
            newest = {row["t"]: row["newest"] for row in rows}
        qualities = await asyncio.gather(*(ctx.loaders.quality(r).load(t) for t in tables))
        now = datetime.now(UTC)
        out = []
        for t, q in zip(tables, qualities, strict=True):
            lg = logs[t]
            sid = r.read.get(t)
            commit = lg.committed_ms(sid) if sid is not None else None
            ev = _parse_time(newest.get(t))
            out.append(TableHealth(
                layer=t.split(".")[0], table=t,
                rows=lg.total_records if sid == lg.current else None,
                last_snapshot_id=strawberry.ID(str(sid)) if sid is not None else None,
                last_commit_at=datetime.fromtimestamp(commit / 1000, UTC) if commit else None,
                newest_event=ev, freshness_lag_seconds=(now - ev).total_seconds() if ev else None,
                quality_status=q.status, failing_checks=q.failed_checks))
        try:
            runs = await repo.runs(r, None, None, None, 0, 1)
        except (MissingTableError, BeforeFirstCommitError):
            runs = []
        last = run_node(r, runs[0]) if runs else None
        failing = sum(len(x.failing_checks) for x in out)
        return DataHealth(checked_at=now, tables=out, last_pipeline_run=last, failing_checks=failing,
                          trustworthy=failing == 0 and last is not None and last.status == "succeeded")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.replace(" UTC", "+00:00")
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        try:
            d0 = date.fromisoformat(text[:10])
        except ValueError:
            return None
        return datetime(d0.year, d0.month, d0.day, tzinfo=UTC)
    return d if d.tzinfo else d.replace(tzinfo=UTC)


TABLES = {"dqResults": [repo.DQ], "alerts": [repo.ALERTS], "dataHealth": ["*"]}
_ = mrepo
