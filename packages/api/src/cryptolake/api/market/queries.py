"""Root query fields of the market domain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from cryptolake.api.common import (
    AsOf,
    Connection,
    FloatFilter,
    MissingTableError,
    Order,
    connection,
    decode_cursor,
    filter_sql,
    page_size,
    reader,
    utc,
)
from cryptolake.api.errors import UnknownSymbolError
from cryptolake.api.lakehouse import Reader
from cryptolake.api.market.types import (
    Anomaly,
    AnomalyWhere,
    Candle,
    CandleWhere,
    Coin,
    CoinOverview,
    FearGreed,
    MarketDay,
    MarketDayWhere,
    Trade,
    TradeWhere,
    Vwap,
)
from cryptolake.api.repositories import market as repo
from cryptolake.api.timeframes import parse_interval


def _filters(pairs: list[tuple[str, FloatFilter | None]]) -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    for col, f in pairs:
        c, p = filter_sql(col, f)
        conds += c
        params += p
    return conds, params


async def _check_symbol(r: Reader, symbol: str) -> None:
    """Called when a symbol's answer is empty: an unknown symbol is an error, not an empty page."""
    try:
        known = await repo.symbols(r)
    except MissingTableError:
        known = set()
    if symbol not in known:
        shown = ", ".join(sorted(known)[:20]) or "none yet (run the pipeline)"
        raise UnknownSymbolError(f"unknown symbol {symbol!r}; known symbols: {shown} (see `coins`)",
                                 symbol=symbol)


def _sym(symbol: str) -> str:
    return symbol.strip().upper()


async def _rows(r: Reader, fetch: Any) -> list[dict[str, Any]]:
    try:
        return await fetch  # type: ignore[no-any-return]
    except MissingTableError:
        return []


@strawberry.type
class MarketQuery:
    @strawberry.field(description="Every traded coin (gold.dim_coins).")
    async def coins(self, info: Info, as_of: AsOf | None = None) -> list[Coin]:
        r = reader(info, as_of, repo.COINS)
        rows = await _rows(r, repo.coins(r))
        return [Coin(table_=repo.COINS, reader_=r, **row) for row in rows]

    @strawberry.field(description=(
        "OHLCV candles of any interval (1m, 5m, 15m, 1h, 4h, 1d, 1w, …). Stored timeframes "
        "(1m, 1h, 4h, 1d) are read as stored; others are rolled up at query time from 1m "
        "(sub-hour) or 1h candles, UTC-aligned (weeks start on Monday). `from`/`to` select "
        "candles by open time; every candle is whole."))
    async def candles(
        self, info: Info, symbol: str, interval: str = "1h",
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, first: int | None = None, after: str | None = None,
        order_by: Order = Order.ASC, where: CandleWhere | None = None, as_of: AsOf | None = None,
    ) -> Connection[Candle]:
        iv = parse_interval(interval)
        n = page_size(info, first)
        sym = _sym(symbol)
        cur = decode_cursor(after, (int,))
        r = reader(info, as_of, iv.table)
        w = where or CandleWhere()
        having = _filters([("open", w.open), ("high", w.high), ("low", w.low), ("close", w.close),
                           ("volume", w.volume)])
        rows = await _rows(r, repo.candles(r, sym, iv, utc(from_), utc(to), cur[0] if cur else None,
                                           order_by == Order.DESC, n + 1, having))
        if not rows and cur is None:
            await _check_symbol(r, sym)
        now = datetime.now(UTC)
        nodes = []
        for row in rows:
            opened = datetime.fromtimestamp(int(row["bucket"]), UTC)
            closes = opened + timedelta(seconds=iv.seconds)
            nodes.append(Candle(
                table_=iv.table, reader_=r, symbol=row["symbol"], interval=iv.label,
                open_time=opened, close_time=closes, open=row["open"], high=row["high"],
                low=row["low"], close=row["close"], volume=row["volume"],
                quote_volume=row["quote_volume"], trade_count=row["trade_count"],
                bar_count=int(row["bar_count"]), is_complete=bool(row["complete"]),
                final=closes <= now, rolled_up=not iv.stored))
        return connection(nodes, n, lambda c: [int(c.open_time.timestamp())])

    @strawberry.field(description="Aggregate trades of one symbol (silver.trades), by trade id.")
    async def trades(
        self, info: Info, symbol: str,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, first: int | None = None, after: str | None = None,
        order_by: Order = Order.ASC, where: TradeWhere | None = None, as_of: AsOf | None = None,
    ) -> Connection[Trade]:
        n = page_size(info, first)
        sym = _sym(symbol)
        cur = decode_cursor(after, (int,))
        r = reader(info, as_of, repo.TRADES)
        w = where or TradeWhere()
        rows = await _rows(r, repo.trades(r, sym, utc(from_), utc(to), cur, order_by == Order.DESC,
                                          n + 1, _filters([("price", w.price), ("quantity", w.quantity)])))
        if not rows and cur is None:
            await _check_symbol(r, sym)
        nodes = [Trade(table_=repo.TRADES, reader_=r, symbol=x["symbol"],
                       agg_trade_id=strawberry.ID(str(x["agg_trade_id"])), price=x["price"], quantity=x["quantity"],
                       first_trade_id=strawberry.ID(str(x["first_trade_id"])) if x["first_trade_id"] is not None else None,
                       last_trade_id=strawberry.ID(str(x["last_trade_id"])) if x["last_trade_id"] is not None else None,
                       trade_time=utc(x["trade_time"]), is_buyer_maker=x["is_buyer_maker"])  # type: ignore[arg-type]
                 for x in rows]
        return connection(nodes, n, lambda t: [int(t.agg_trade_id)])

    @strawberry.field(description="Volume-weighted average prices over sliding windows (silver.vwap).")
    async def vwap(
        self, info: Info, symbol: str,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, first: int | None = None, after: str | None = None,
        as_of: AsOf | None = None,
    ) -> Connection[Vwap]:
        n = page_size(info, first)
        sym = _sym(symbol)
        cur = decode_cursor(after, (datetime, datetime))
        r = reader(info, as_of, repo.VWAP)
        rows = await _rows(r, repo.vwap(r, sym, utc(from_), utc(to), cur, n + 1))
        if not rows and cur is None:
            await _check_symbol(r, sym)
        nodes = [Vwap(table_=repo.VWAP, reader_=r, symbol=x["symbol"], window_start=utc(x["window_start"]),  # type: ignore[arg-type]
                      window_end=utc(x["window_end"]), vwap=x["vwap"], volume=x["volume"],  # type: ignore[arg-type]
                      trade_count=x["trade_count"]) for x in rows]
        return connection(nodes, n, lambda v: [v.window_start, v.window_end])

    @strawberry.field(description="Returns flagged by their rolling z-score (silver.anomalies).")
    async def anomalies(
        self, info: Info, symbol: str | None = None, interval: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None, first: int | None = None, after: str | None = None,
        where: AnomalyWhere | None = None, as_of: AsOf | None = None,
    ) -> Connection[Anomaly]:
        n = page_size(info, first)
        cur = decode_cursor(after, (datetime, str, str))
        r = reader(info, as_of, repo.ANOMALIES)
        w = where or AnomalyWhere()
        rows = await _rows(r, repo.anomalies(r, _sym(symbol) if symbol else None, interval, utc(from_),
                                             utc(to), cur, n + 1,
                                             _filters([("zscore", w.zscore), ('"return"', w.log_return)])))
        nodes = [Anomaly(table_=repo.ANOMALIES, reader_=r, symbol=x["symbol"], interval=x["interval"],
                         open_time=utc(x["open_time"]), log_return=x["ret"], zscore=x["zscore"],  # type: ignore[arg-type]
                         window_size=x["window_size"], threshold=x["threshold"],
                         detected_at=utc(x["detected_at"])) for x in rows]  # type: ignore[arg-type]
        return connection(nodes, n, lambda a: [a.open_time, a.symbol, a.interval])

    @strawberry.field(description="Daily facts: change, moving averages, volatility, sentiment.")
    async def market_daily(
        self, info: Info, symbol: str | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None, first: int | None = None, after: str | None = None,
        order_by: Order = Order.ASC, where: MarketDayWhere | None = None, as_of: AsOf | None = None,
    ) -> Connection[MarketDay]:
        n = page_size(info, first)
        cur = decode_cursor(after, (date, str))
        r = reader(info, as_of, repo.DAILY)
        w = where or MarketDayWhere()
        sym = _sym(symbol) if symbol else None
        rows = await _rows(r, repo.market_daily(
            r, sym, from_, to, cur, order_by == Order.DESC, n + 1,
            _filters([("price", w.price), ("change_1d", w.change_1d),
                      ("volatility_7d", w.volatility_7d), ("market_cap", w.market_cap)])))
        if not rows and cur is None and sym is not None:
            await _check_symbol(r, sym)
        nodes = [MarketDay(table_=repo.DAILY, reader_=r, **x) for x in rows]
        return connection(nodes, n, lambda d: [d.date, d.symbol])

    @strawberry.field(description="Latest price, 24 h change, volume, high and low per coin.")
    async def market_overview(self, info: Info, as_of: AsOf | None = None) -> list[CoinOverview]:
        r = reader(info, as_of, repo.HOURLY)
        rows = await _rows(r, repo.overview(r))
        out = []
        for x in rows:
            latest = utc(x["latest"])
            assert latest is not None
            ref_ok = utc(x["ref_time"]) == latest - timedelta(hours=24)
            change = (x["price"] / x["ref_close"] - 1) if ref_ok and x["ref_close"] else None
            out.append(CoinOverview(
                table_=repo.HOURLY, reader_=r, symbol=x["symbol"], latest_time=latest,
                price=x["price"], change_24h=change, volume_24h=x["volume_24h"],
                quote_volume_24h=x["quote_volume_24h"], high_24h=x["high_24h"], low_24h=x["low_24h"]))
        return out

    @strawberry.field(description="The Fear & Greed index per day (silver.fear_greed).")
    async def fear_greed(
        self, info: Info, from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None, first: int | None = None, after: str | None = None,
        order_by: Order = Order.ASC, as_of: AsOf | None = None,
    ) -> Connection[FearGreed]:
        n = page_size(info, first)
        cur = decode_cursor(after, (date,))
        r = reader(info, as_of, repo.FEAR_GREED)
        rows = await _rows(r, repo.fear_greed(r, from_, to, cur, order_by == Order.DESC, n + 1))
        nodes = [FearGreed(table_=repo.FEAR_GREED, reader_=r, **x) for x in rows]
        return connection(nodes, n, lambda f: [f.date])


#: the tables each root field reads (the cache keys on their snapshots)
TABLES = {
    "coins": [repo.COINS], "candles": [repo.OHLC, repo.OHLCV_1M, repo.COINS],
    "trades": [repo.TRADES, repo.COINS], "vwap": [repo.VWAP, repo.COINS],
    "anomalies": [repo.ANOMALIES], "marketDaily": [repo.DAILY, repo.COINS],
    "marketOverview": [repo.HOURLY], "fearGreed": [repo.FEAR_GREED],
}
