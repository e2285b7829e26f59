"""SQL of the market fields over Gold and Silver."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from cryptolake.api.lakehouse import Reader
from cryptolake.api.repositories import keyset, where
from cryptolake.api.timeframes import Interval

COINS = "gold.dim_coins"
OHLC = "gold.market_ohlc"
OHLCV_1M = "silver.ohlcv_1m"
HOURLY = "gold.fact_price_hourly"
DAILY = "gold.fact_market_daily"
TRADES = "silver.trades"
VWAP = "silver.vwap"
ANOMALIES = "silver.anomalies"
FEAR_GREED = "silver.fear_greed"

_BASE = {
    60: ("SELECT symbol, open_time AS t, open, high, low, close, volume, quote_volume, trade_count, "
         "1 AS bar_count, true AS complete FROM {src} WHERE symbol = ?"),
    3600: ("SELECT symbol, bucket_start AS t, open, high, low, close, volume, quote_volume, "
           "trade_count, bar_count, is_complete AS complete FROM {src} WHERE timeframe = ? AND symbol = ?"),
}


def _ts(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def symbols(r: Reader) -> set[str]:
    rows = await r.query("SELECT symbol FROM {c}", {"c": COINS})
    return {row["symbol"] for row in rows}


async def coins(r: Reader) -> list[dict[str, Any]]:
    return await r.query(
        "SELECT symbol, base_asset, quote_asset, coin_id, first_date, last_date, has_hourly_prices, "
        "has_market_metrics FROM {c} ORDER BY symbol", {"c": COINS})


async def candles(r: Reader, symbol: str, iv: Interval, start: datetime | None, end: datetime | None,
                  after: int | None, desc: bool, limit: int,
                  having: tuple[list[str], list[Any]]) -> list[dict[str, Any]]:
    """Candles of ``iv``: stored ones as they are, others rolled up from the base timeframe.

    Bucket = floor((t - origin) / step) * step + origin in epoch seconds; ``start``/``end``
    select buckets by their open time (every candle is whole)."""
    base = iv.base_seconds
    src = iv.table
    base_sql = _BASE[60 if base == 60 else 3600]
    base_params: list[Any] = [symbol] if base == 60 else [iv.timeframe, symbol]
    step, origin = iv.seconds, iv.origin_s
    lo = iv.bucket_start(int(start.timestamp())) if start else None
    hi_rows = None
    if end is not None:
        # rows of every bucket that opens before `end`
        hi_rows = iv.bucket_start(math.ceil(end.timestamp()) - 1) + step
    if after is not None:
        if desc:
            hi_rows = min(hi_rows, after) if hi_rows is not None else after
        else:
            lo = max(lo, after + step) if lo is not None else after + step
    conds: list[str] = []
    params: list[Any] = []
    if lo is not None:
        conds.append("t >= ?")
        params.append(_ts(lo))
    if hi_rows is not None:
        conds.append("t < ?")
        params.append(_ts(hi_rows))
    inner = f"SELECT * FROM ({base_sql}) b {where(conds)}"
    order = "DESC" if desc else "ASC"
    h_conds, h_params = having
    if iv.stored:
        sql = (f"SELECT symbol, CAST(to_unixtime(t) AS bigint) AS bucket, open, high, low, close, volume, "
               f"quote_volume, trade_count, bar_count, complete FROM ({inner}) s "
               f"{where(h_conds)} ORDER BY bucket {order} LIMIT ?")
        return await r.query(sql, {"src": src}, [*base_params, *params, *h_params, limit])
    bucket = "CAST(floor((to_unixtime(t) - ?) / ?) AS bigint) * ? + ?"
    expected = step // base
    sql = (
        f"SELECT * FROM (SELECT symbol, bucket, min_by(open, t) AS open, max(high) AS high, "
        f"min(low) AS low, max_by(close, t) AS close, sum(volume) AS volume, "
        f"sum(quote_volume) AS quote_volume, sum(trade_count) AS trade_count, "
        f"CAST(sum(bar_count) AS bigint) AS bar_count, sum(bar_count) = ? AS complete "
        f"FROM (SELECT *, {bucket} AS bucket FROM ({inner}) i) x GROUP BY symbol, bucket) g "
        f"{where(h_conds)} ORDER BY bucket {order} LIMIT ?"
    )
    return await r.query(sql, {"src": src},
                         [expected, origin, step, step, origin, *base_params, *params, *h_params, limit])


async def trades(r: Reader, symbol: str, start: datetime | None, end: datetime | None,
                 after: list[Any] | None, desc: bool, limit: int,
                 filt: tuple[list[str], list[Any]]) -> list[dict[str, Any]]:
    conds: list[str] = ["symbol = ?"]
    params: list[Any] = [symbol]
    if start:
        conds.append("trade_time >= ?")
        params.append(start)
    if end:
        conds.append("trade_time < ?")
        params.append(end)
    ks, kp = keyset(["agg_trade_id"], after, desc)
    conds += [ks, *filt[0]]
    params += [*kp, *filt[1]]
    order = "DESC" if desc else "ASC"
    return await r.query(
        "SELECT symbol, agg_trade_id, price, quantity, first_trade_id, last_trade_id, trade_time, "
        f"is_buyer_maker FROM {{t}} {where(conds)} ORDER BY agg_trade_id {order} LIMIT ?",
        {"t": TRADES}, [*params, limit])


async def vwap(r: Reader, symbol: str, start: datetime | None, end: datetime | None,
               after: list[Any] | None, limit: int) -> list[dict[str, Any]]:
    conds: list[str] = ["symbol = ?"]
    params: list[Any] = [symbol]
    if start:
        conds.append("window_start >= ?")
        params.append(start)
    if end:
        conds.append("window_start < ?")
        params.append(end)
    ks, kp = keyset(["window_start", "window_end"], after, False)
    conds.append(ks)
    params += kp
    return await r.query(
        "SELECT symbol, window_start, window_end, vwap, volume, trade_count FROM {t} "
        f"{where(conds)} ORDER BY window_start, window_end LIMIT ?", {"t": VWAP}, [*params, limit])


async def anomalies(r: Reader, symbol: str | None, interval: str | None, start: datetime | None,
                    end: datetime | None, after: list[Any] | None, limit: int,
                    filt: tuple[list[str], list[Any]]) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    for col, val in (("symbol", symbol), ("interval", interval)):
        if val is not None:
            conds.append(f"{col} = ?")
            params.append(val)
    if start:
        conds.append("open_time >= ?")
        params.append(start)
    if end:
        conds.append("open_time < ?")
        params.append(end)
    ks, kp = keyset(["open_time", "symbol", "interval"], after, False)
    conds += [ks, *filt[0]]
    params += [*kp, *filt[1]]
    return await r.query(
        'SELECT symbol, interval, open_time, "return" AS ret, zscore, window_size, threshold, '
        f"detected_at FROM {{t}} {where(conds)} ORDER BY open_time, symbol, interval LIMIT ?",
        {"t": ANOMALIES}, [*params, limit])


async def market_daily(r: Reader, symbol: str | None, start: Any, end: Any, after: list[Any] | None,
                       desc: bool, limit: int, filt: tuple[list[str], list[Any]]) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if symbol is not None:
        conds.append("symbol = ?")
        params.append(symbol)
    if start is not None:
        conds.append("date >= ?")
        params.append(start)
    if end is not None:
        conds.append("date < ?")
        params.append(end)
    ks, kp = keyset(["date", "symbol"], after, desc)
    conds += [ks, *filt[0]]
    params += [*kp, *filt[1]]
    order = "DESC" if desc else "ASC"
    return await r.query(
        "SELECT symbol, date, coin_id, price, price_source, market_cap, total_volume, exchange_volume, "
        "change_1d, ma_7d, ma_30d, days_in_30d, volatility_7d, fear_greed_value, fear_greed_class "
        f"FROM {{t}} {where(conds)} ORDER BY date {order}, symbol {order} LIMIT ?",
        {"t": DAILY}, [*params, limit])


OVERVIEW_SQL = """
WITH l AS (SELECT symbol, max(open_time) AS latest FROM {h} GROUP BY symbol)
SELECT h.symbol, l.latest,
       max_by(h.close, h.open_time) AS price,
       min_by(h.close, h.open_time) AS ref_close,
       min(h.open_time) AS ref_time,
       sum(h.volume) FILTER (WHERE h.open_time > l.latest - INTERVAL '24' HOUR) AS volume_24h,
       sum(h.quote_volume) FILTER (WHERE h.open_time > l.latest - INTERVAL '24' HOUR) AS quote_volume_24h,
       max(h.high) FILTER (WHERE h.open_time > l.latest - INTERVAL '24' HOUR) AS high_24h,
       min(h.low) FILTER (WHERE h.open_time > l.latest - INTERVAL '24' HOUR) AS low_24h
FROM {h} h JOIN l ON h.symbol = l.symbol
WHERE h.open_time >= l.latest - INTERVAL '24' HOUR
GROUP BY h.symbol, l.latest
ORDER BY h.symbol
"""


async def overview(r: Reader) -> list[dict[str, Any]]:
    return await r.query(OVERVIEW_SQL, {"h": HOURLY})


async def fear_greed(r: Reader, start: Any, end: Any, after: list[Any] | None, desc: bool,
                     limit: int) -> list[dict[str, Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if start is not None:
        conds.append("date >= ?")
        params.append(start)
    if end is not None:
        conds.append("date < ?")
        params.append(end)
    ks, kp = keyset(["date"], after, desc)
    conds.append(ks)
    params += kp
    order = "DESC" if desc else "ASC"
    return await r.query(
        f"SELECT date, value, classification FROM {{t}} {where(conds)} ORDER BY date {order} LIMIT ?",
        {"t": FEAR_GREED}, [*params, limit])
