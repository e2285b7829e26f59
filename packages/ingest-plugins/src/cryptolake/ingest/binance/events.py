"""Binance events: websocket frames, REST arrays and objects, and their Bronze rows.

Every kline, whatever it came from, is carried as a websocket ``kline`` event
(``{"e":"kline","E":…,"s":…,"k":{"t","T","s","i","f","L","o","c","h","l","v","n","x","q","V","Q","B"}}``)
holding only the fields its source really had; every aggregate trade as a websocket ``aggTrade``
event. :func:`kline_row` and :func:`agg_trade_row` turn those events into Bronze rows — the same
functions the Kafka → Bronze sink uses, so a record's Bronze row does not depend on its path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import (
    ROW_BUILDERS,
    Record,
    Reject,
    as_int,
    check_time,
    decimal_text,
    dumps,
    ms_to_dt,
    need,
    time_field,
)

KLINES = "binance_klines"
AGG_TRADES = "binance_agg_trades"
INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


def kline_topic(interval: str) -> str:
    return f"binance.kline_{interval}"


AGG_TRADE_TOPIC = "binance.aggtrade"


def _symbol(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SYMBOL.match(value.upper()):
        raise RecordRejected(what, f"field 's' (symbol) is not a symbol: {value!r}")
    return value.upper()


# -- events → Bronze rows ---------------------------------------------------------------------


def kline_row(event: dict[str, Any], *, now: int | None = None) -> dict[str, Any]:
    """The Bronze row of a websocket-shaped kline event; raises :class:`RecordRejected`."""
    what = "binance kline"
    k = need(event, "k", what)
    if not isinstance(k, dict):
        raise RecordRejected(what, f"field 'k' must be an object, got {type(k).__name__}")
    symbol = _symbol(k.get("s") or event.get("s"), what)
    interval = need(k, "i", what)
    if not isinstance(interval, str) or interval not in INTERVAL_MS:
        raise RecordRejected(what, f"field 'k.i' (interval) is unknown: {interval!r}")
    open_ms = check_time(as_int(need(k, "t", what), "k.t", what), "k.t", what, now=now)
    close_ms = as_int(k["T"], "k.T", what) if k.get("T") is not None else None
    if close_ms is not None and close_ms < open_ms:
        raise RecordRejected(what, f"close time k.T={close_ms} is before open time k.t={open_ms}")
    if close_ms is not None and close_ms >= open_ms + 2 * INTERVAL_MS[interval]:
        raise RecordRejected(
            what, f"close time k.T={close_ms} is more than an interval ({interval}) after k.t"
        )
    o, h, low, c = (decimal_text(need(k, f, what), f"k.{f}", what) for f in ("o", "h", "l", "c"))
    if float(h) < float(low):
        raise RecordRejected(what, f"high k.h={h} is below low k.l={low}")

    def opt(f: str) -> str | None:
        return decimal_text(k[f], f"k.{f}", what, allow_zero=True) if k.get(f) is not None else None

    def optint(f: str) -> int | None:
        return as_int(k[f], f"k.{f}", what) if k.get(f) is not None else None

    x = k.get("x")
    if x is not None and not isinstance(x, bool):
        raise RecordRejected(what, f"field 'k.x' must be a boolean, got {x!r}")
    return {
        "symbol": symbol,
        "interval": interval,
        "open_time": ms_to_dt(open_ms),
        "close_time": ms_to_dt(close_ms),
        "open": o,
        "high": h,
        "low": low,
        "close": c,
        "volume": decimal_text(need(k, "v", what), "k.v", what, allow_zero=True),
        "quote_volume": opt("q"),
        "trade_count": optint("n"),
        "taker_buy_base_volume": opt("V"),
        "taker_buy_quote_volume": opt("Q"),
        "first_trade_id": optint("f"),
        "last_trade_id": optint("L"),
        "is_closed": x,
        "event_time": time_field(event["E"], "E", what)
        if event.get("E") is not None
        else None,
    }


def agg_trade_row(event: dict[str, Any], *, now: int | None = None) -> dict[str, Any]:
    what = "binance aggTrade"
    symbol = _symbol(need(event, "s", what), what)
    trade_ms = check_time(as_int(need(event, "T", what), "T", what), "T", what, now=now)
    for f in ("m", "M"):
        if event.get(f) is not None and not isinstance(event[f], bool):
            raise RecordRejected(what, f"field {f!r} must be a boolean, got {event[f]!r}")
    agg_id = as_int(need(event, "a", what), "a", what)
    if agg_id < 0:
        raise RecordRejected(what, f"field 'a' (aggregate trade id) is negative: {agg_id}")
    return {
        "symbol": symbol,
        "agg_trade_id": agg_id,
        "price": decimal_text(need(event, "p", what), "p", what),
        "quantity": decimal_text(need(event, "q", what), "q", what),
        "first_trade_id": as_int(event["f"], "f", what) if event.get("f") is not None else None,
        "last_trade_id": as_int(event["l"], "l", what) if event.get("l") is not None else None,
        "trade_time": ms_to_dt(trade_ms),
        "event_time": time_field(event["E"], "E", what)
        if event.get("E") is not None
        else None,
        "is_buyer_maker": event.get("m"),
        "is_best_match": event.get("M"),
    }


def event_record(
    event: dict[str, Any], payload: bytes, *, layout: str, origin: str, now: int | None = None
) -> Record:
    """A Record (bound for Kafka) from a kline or aggTrade event; raises RecordRejected."""
    kind = event.get("e") if isinstance(event, dict) else None
    if kind == "kline":
        row = kline_row(event, now=now)
        return Record(
            KLINES,
            row["symbol"],
            int(row["open_time"].timestamp() * 1000),
            row,
            payload,
            layout,
            origin,
            kline_topic(row["interval"]),
        )
    if kind == "aggTrade":
        row = agg_trade_row(event, now=now)
        return Record(
            AGG_TRADES,
            row["symbol"],
            int(row["trade_time"].timestamp() * 1000),
            row,
            payload,
            layout,
            origin,
            AGG_TRADE_TOPIC,
        )
    raise RecordRejected("binance event", f"unknown event type e={kind!r}")


def parse_event_bytes(
    payload: bytes, *, layout: str, origin: str, now: int | None = None
) -> Record | Reject:
    """Parse one Kafka value / websocket event; never raises."""
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Reject(f"unparsable JSON: {exc}", payload, layout, origin)
    try:
        return event_record(event, payload, layout=layout, origin=origin, now=now)
    except RecordRejected as exc:
        return Reject(
            exc.reason,
            payload,
            layout,
            origin,
            KLINES
            if isinstance(event, dict) and event.get("e") == "kline"
            else AGG_TRADES
            if isinstance(event, dict) and event.get("e") == "aggTrade"
            else None,
        )


# -- websocket frames ---------------------------------------------------------------------------

#: Streams of the combined connection we ingest; others (depth, bookTicker) are skipped.
INGESTED_STREAM_SUFFIXES = ("@aggTrade", "@kline_")


def split_frame(frame: bytes | str) -> tuple[str | None, bytes]:
    """``(stream, data bytes)`` of a combined-stream frame, keeping the data bytes verbatim."""
    text = frame.decode() if isinstance(frame, bytes) else frame
    env = json.loads(text)
    if isinstance(env, dict) and "stream" in env and "data" in env:
        # keep the exchange's bytes: cut the "data" value out of the frame text
        start = text.find('"data":')
        if start >= 0:
            body = text[start + 7 :].strip()
            if body.endswith("}"):
                body = body[:-1].rstrip()
            try:
                if json.loads(body) == env["data"]:
                    return env["stream"], body.encode()
            except json.JSONDecodeError:
                pass
        return env["stream"], dumps(env["data"])
    return None, text.encode()


def is_ingested_stream(stream: str | None) -> bool:
    return stream is None or any(s in stream for s in INGESTED_STREAM_SUFFIXES)


# -- REST responses ------------------------------------------------------------------------------


def rest_kline_event(arr: Any, symbol: str, interval: str) -> dict[str, Any]:
    """A kline event from one 12-field ``/api/v3/klines`` array (all fields kept)."""
    what = "binance REST kline"
    if not isinstance(arr, list) or len(arr) < 11:
        raise RecordRejected(
            what, f"expected an array of 11 or 12 fields (the 12th is ignored), got {str(arr)[:80]}"
        )
    names = ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q")
    k = dict(zip(names, arr[:11], strict=True))
    k.update(s=symbol, i=interval)
    if len(arr) > 11:
        k["B"] = arr[11]
    return {"e": "kline", "s": symbol, "k": k}


def rest_agg_trade_event(obj: Any, symbol: str) -> dict[str, Any]:
    """An aggTrade event from one ``/api/v3/aggTrades`` object (every field kept, plus e and s)."""
    if not isinstance(obj, dict):
        raise RecordRejected("binance REST aggTrade", f"expected an object, got {str(obj)[:80]}")
    return {"e": "aggTrade", "s": symbol, **obj}


LAYOUT_WS = "binance_ws"  # live frames / Kafka values
LAYOUT_REST = "binance_rest"

ROW_BUILDERS[KLINES] = kline_row
ROW_BUILDERS[AGG_TRADES] = agg_trade_row
