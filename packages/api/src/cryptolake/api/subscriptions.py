"""Subscriptions over graphql-transport-ws, pushed from the Kafka hub.

``trades(symbol, after)`` and ``candles(symbol, interval, after)`` resume from a cursor of an
earlier answer: the subscriber listens first, replays what it missed from the lakehouse, then the
hub's recent buffer, then the live stream; a record is delivered once (the key only grows).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from strawberry.types import Info

from cryptolake.api.common import decode_cursor, encode_cursor, utc
from cryptolake.api.errors import LimitExceededError
from cryptolake.api.lakehouse import MissingTableError, Reader
from cryptolake.api.repositories import market as repo
from cryptolake.api.timeframes import parse_interval


@strawberry.type
class TradeEvent:
    cursor: str
    symbol: str
    agg_trade_id: strawberry.ID
    price: float
    quantity: float
    trade_time: datetime
    is_buyer_maker: bool | None
    replayed: bool = strawberry.field(description="read from the lakehouse while resuming")


@strawberry.type
class CandleEvent:
    cursor: str
    symbol: str
    interval: str
    open_time: datetime
    close_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int | None
    final: bool = strawberry.field(description="the bucket has closed: this is its last value")
    replayed: bool


@strawberry.type
class StreamEvent:
    id: str | None
    kind: str
    payload: strawberry.scalars.JSON


def _sub_limit(info: Info) -> None:
    ctx = info.context
    ctx.subscriptions += 1
    cap = ctx.app.settings.max_subscriptions_per_connection
    if ctx.subscriptions > cap:
        raise LimitExceededError(f"at most {cap} subscriptions per connection", limit="subscriptions")


def _trade(row: dict[str, Any], replayed: bool) -> TradeEvent:
    return TradeEvent(cursor=encode_cursor([int(row["agg_trade_id"])]), symbol=row["symbol"],
                      agg_trade_id=strawberry.ID(str(row["agg_trade_id"])), price=row["price"],
                      quantity=row["quantity"], trade_time=utc(row["trade_time"]),  # type: ignore[arg-type]
                      is_buyer_maker=row["is_buyer_maker"], replayed=replayed)


class _Forming:
    """The candle of the current bucket, from 1m klines (trades fill minutes with no kline)."""

    def __init__(self, seconds: int, origin: int) -> None:
        self.seconds, self.origin = seconds, origin
        self.bucket: int | None = None
        self.minutes: dict[int, dict[str, Any]] = {}
        self.from_trades: set[int] = set()

    def _bucket(self, epoch: int) -> int:
        return (epoch - self.origin) // self.seconds * self.seconds + self.origin

    def candle(self) -> dict[str, Any]:
        bars = [self.minutes[m] for m in sorted(self.minutes)]
        return {"open": bars[0]["open"], "high": max(b["high"] for b in bars),
                "low": min(b["low"] for b in bars), "close": bars[-1]["close"],
                "volume": sum(b["volume"] for b in bars),
                "trade_count": sum(b.get("trade_count") or 0 for b in bars)}

    def add(self, minute: int, bar: dict[str, Any], from_trade: bool) -> list[tuple[int, dict[str, Any], bool]]:
        """Fold one minute bar in; returns the candles to push (bucket, values, final)."""
        out: list[tuple[int, dict[str, Any], bool]] = []
        b = self._bucket(minute)
        if self.bucket is not None and b < self.bucket:
            return out  # a late record of a bucket already closed
        if self.bucket is not None and b > self.bucket and self.minutes:
            out.append((self.bucket, self.candle(), True))
            self.minutes, self.from_trades = {}, set()
        self.bucket = b
        if from_trade:
            if minute in self.minutes and minute not in self.from_trades:
                return out  # the exchange's kline wins over our own trade bar
            cur = self.minutes.get(minute)
            if cur is None:
                self.minutes[minute] = bar
            else:
                cur.update(high=max(cur["high"], bar["high"]), low=min(cur["low"], bar["low"]),
                           close=bar["close"], volume=cur["volume"] + bar["volume"],
                           trade_count=(cur.get("trade_count") or 0) + 1)
            self.from_trades.add(minute)
        else:
            self.minutes[minute] = bar
            self.from_trades.discard(minute)
        final = minute + 60 >= b + self.seconds and bool(bar.get("final"))
        out.append((b, self.candle(), final))
        if final:
            self.minutes, self.from_trades, self.bucket = {}, set(), b + self.seconds
        return out


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Trades of a symbol as they arrive; `after` resumes.")
    async def trades(self, info: Info, symbol: str, after: str | None = None) -> AsyncGenerator[TradeEvent, None]:
        _sub_limit(info)
        app = info.context.app
        sym = symbol.strip().upper()
        last = decode_cursor(after, (int,))
        seen = last[0] if last else None
        async with app.hub.listen(("trades", sym), "trades") as q:
            if seen is not None:
                r = Reader(app.lakehouse)
                while True:
                    try:
                        rows = await repo.trades(r, sym, None, None, [seen], False, 500, ([], []))
                    except MissingTableError:
                        rows = []
                    for row in rows:
                        seen = int(row["agg_trade_id"])
                        yield _trade(row, True)
                    if len(rows) < 500:
                        break
                for ev in app.hub.recent(("trades", sym)):
                    if ev.key > seen:
                        seen = ev.key
                        yield _trade(ev.data, True)
            while True:
                ev = await q.get()
                if seen is None or ev.key > seen:
                    seen = ev.key
                    yield _trade(ev.data, False)

    @strawberry.subscription(description=(
        "The forming candle of `interval` as klines and trades arrive; `final` marks its last "
        "value. `after` (a candle cursor) first replays the closed candles since."))
    async def candles(self, info: Info, symbol: str, interval: str = "1m",
                      after: str | None = None) -> AsyncGenerator[CandleEvent, None]:
        _sub_limit(info)
        iv = parse_interval(interval)
        app = info.context.app
        sym = symbol.strip().upper()
        last = decode_cursor(after, (int,))
        forming = _Forming(iv.seconds, iv.origin_s)

        def event(bucket: int, v: dict[str, Any], final: bool, replayed: bool) -> CandleEvent:
            opened = datetime.fromtimestamp(bucket, UTC)
            return CandleEvent(cursor=encode_cursor([bucket]), symbol=sym, interval=iv.label,
                               open_time=opened, close_time=opened + timedelta(seconds=iv.seconds),
                               open=v["open"], high=v["high"], low=v["low"], close=v["close"],
                               volume=v["volume"], trade_count=v.get("trade_count"), final=final,
                               replayed=replayed)

        async with app.hub.listen(("klines", sym), "candles") as kq, \
                app.hub.listen(("trades", sym), "candles") as tq:
            done = last[0] if last else None
            if done is not None:
                r = Reader(app.lakehouse)
                now = datetime.now(UTC)
                while True:
                    try:
                        rows = await repo.candles(r, sym, iv, None, None, done, False, 500, ([], []))
                    except MissingTableError:
                        rows = []
                    for row in rows:
                        b = int(row["bucket"])
                        if datetime.fromtimestamp(b + iv.seconds, UTC) > now:
                            break  # the forming bucket comes from the stream
                        done = b
                        yield event(b, row, True, True)
                    if len(rows) < 500:
                        break
                forming.bucket = done + iv.seconds
            import asyncio

            async def next_event() -> Any:
                kt = asyncio.ensure_future(kq.get())
                tt = asyncio.ensure_future(tq.get())
                finished, pending = await asyncio.wait({kt, tt}, return_when=asyncio.FIRST_COMPLETED)
                for p in pending:
                    p.cancel()
                got = [f.result() for f in finished]
                return got

            while True:
                for ev in await next_event():
                    d = ev.data
                    if ev.channel[0] == "klines":
                        minute = int(d["open_time"].timestamp())
                        bar = {k: d[k] for k in ("open", "high", "low", "close", "volume", "trade_count", "final")}
                        pushes = forming.add(minute, bar, False)
                    else:
                        t = int(d["trade_time"].timestamp())
                        minute = t - t % 60
                        bar = {"open": d["price"], "high": d["price"], "low": d["price"],
                               "close": d["price"], "volume": d["quantity"], "trade_count": 1}
                        pushes = forming.add(minute, bar, True)
                    for b, v, final in pushes:
                        if done is not None and b <= done:
                            continue
                        yield event(b, v, final, False)

    @strawberry.subscription(description="Alerts as they are raised.")
    async def alerts(self, info: Info) -> AsyncGenerator[StreamEvent, None]:
        _sub_limit(info)
        async with info.context.app.hub.listen(("alerts",), "alerts") as q:
            while True:
                ev = await q.get()
                yield StreamEvent(id=str(ev.key) if ev.key else None, kind="alert", payload=ev.data)

    @strawberry.subscription(description="Pipeline step progress as steps start and end.")
    async def pipeline_runs(self, info: Info) -> AsyncGenerator[StreamEvent, None]:
        _sub_limit(info)
        async with info.context.app.hub.listen(("runs",), "pipelineRuns") as q:
            while True:
                ev = await q.get()
                yield StreamEvent(id=str(ev.key) if ev.key else None, kind="run", payload=ev.data)

    @strawberry.subscription(description="Model predictions as they are published.")
    async def predictions(self, info: Info, symbol: str | None = None) -> AsyncGenerator[StreamEvent, None]:
        _sub_limit(info)
        channel = ("predictions", symbol.strip().upper()) if symbol else ("predictions",)
        async with info.context.app.hub.listen(channel, "predictions") as q:
            while True:
                ev = await q.get()
                yield StreamEvent(id=str(ev.key) if ev.key else None, kind="prediction", payload=ev.data)
