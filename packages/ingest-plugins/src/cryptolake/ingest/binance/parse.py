"""Binance parsers: websocket events, REST responses and the recorded kline file layouts.

Every kline, whatever it came from, is carried as a websocket ``kline`` event
(``{"e":"kline","E":…,"s":…,"k":{"t","T","s","i","f","L","o","c","h","l","v","n","x","q","V","Q","B"}}``)
holding only the fields its source really had; every aggregate trade as a websocket ``aggTrade``
event. :func:`kline_row` and :func:`agg_trade_row` turn those events into Bronze rows — the same
functions the Kafka → Bronze sink uses, so a record's Bronze row does not depend on its path.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import (
    FUTURE_TOLERANCE_MS,
    ROW_BUILDERS,
    Record,
    Reject,
    as_int,
    check_time,
    decimal_text,
    dumps,
    iso,
    ms_to_dt,
    need,
    now_ms,
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
    if interval not in INTERVAL_MS:
        raise RecordRejected(what, f"field 'k.i' (interval) is unknown: {interval!r}")
    open_ms = check_time(as_int(need(k, "t", what), "k.t", what), "k.t", what, now=now)
    close_ms = as_int(k["T"], "k.T", what) if k.get("T") is not None else None
    if close_ms is not None and close_ms < open_ms:
        raise RecordRejected(what, f"close time k.T={close_ms} is before open time k.t={open_ms}")
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
        "event_time": ms_to_dt(as_int(event["E"], "E", what))
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
        "event_time": ms_to_dt(as_int(event["E"], "E", what))
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
        raise RecordRejected(what, f"expected a 12-field array, got {str(arr)[:80]}")
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


# -- the fast path of recorded klines ----------------------------------------------------------------

_TOPICS = {i: kline_topic(i) for i in INTERVAL_MS}
_GOOD_SYMBOLS: set[str] = set()
_MIN_MS = 1_230_768_000_000  # 2009-01-01


def _pos(text: str, field: str, *, zero_ok: bool = False) -> str:
    """``text`` stripped, checked to be a finite positive (or non-negative) decimal."""
    t = text.strip()
    try:
        f = float(t)
    except ValueError:
        raise RecordRejected(
            "binance kline", f"field {field!r} must be a number, got {text!r}"
        ) from None
    if not (f > 0 or (zero_ok and f == 0)) or f == math.inf or "_" in t:
        if f != f or f == math.inf or "_" in t:
            raise RecordRejected("binance kline", f"field {field!r} is not finite: {text!r}")
        kind = "non-negative" if zero_ok else "positive"
        raise RecordRejected("binance kline", f"field {field!r} must be {kind}, got {text!r}")
    return t


def fast_kline(
    symbol: str,
    interval: str,
    t: int,
    close: int | None,
    o: str,
    h: str,
    low: str,
    c: str,
    v: str,
    q: str | None = None,
    n: int | None = None,
    taker_v: str | None = None,
    taker_q: str | None = None,
    *,
    raw: bytes,
    layout: str,
    origin: str,
    now: int | None = None,
) -> Record | Reject:
    """Validate one recorded kline and build its Kafka value as text, without a Bronze row.

    Checks what :func:`kline_row` checks (the sink builds the row from the value later), in a
    fraction of the time: replay spends most of its time here.
    """
    try:
        if symbol not in _GOOD_SYMBOLS:
            _symbol(symbol, "binance kline")
            _GOOD_SYMBOLS.add(symbol)
        if t < _MIN_MS:
            raise RecordRejected(
                "binance kline", f"field 'k.t' = {t} is not a plausible epoch-ms time"
            )
        if t > (now if now is not None else now_ms()) + FUTURE_TOLERANCE_MS:
            raise RecordRejected("binance kline", f"field 'k.t' = {iso(t)} is in the future")
        if close is not None and close < t:
            raise RecordRejected(
                "binance kline", f"close time k.T={close} is before open time k.t={t}"
            )
        o, h, low, c = _pos(o, "k.o"), _pos(h, "k.h"), _pos(low, "k.l"), _pos(c, "k.c")
        if float(h) < float(low):
            raise RecordRejected("binance kline", f"high k.h={h} is below low k.l={low}")
        parts = [f'{{"e":"kline","s":"{symbol}","k":{{"t":{t}']
        if close is not None:
            parts.append(f',"T":{close}')
        parts.append(
            f',"s":"{symbol}","i":"{interval}","o":"{o}","c":"{c}","h":"{h}","l":"{low}"'
            f',"v":"{_pos(v, "k.v", zero_ok=True)}"'
        )
        if n is not None:
            if n < 0:
                raise RecordRejected("binance kline", f"field 'k.n' must be >= 0, got {n}")
            parts.append(f',"n":{n}')
        if q is not None:
            parts.append(f',"q":"{_pos(q, "k.q", zero_ok=True)}"')
        if taker_v is not None:
            parts.append(f',"V":"{_pos(taker_v, "k.V", zero_ok=True)}"')
        if taker_q is not None:
            parts.append(f',"Q":"{_pos(taker_q, "k.Q", zero_ok=True)}"')
        parts.append(',"x":true}}')
    except RecordRejected as exc:
        return Reject(exc.reason, raw, layout, origin, KLINES)
    return Record(
        KLINES, symbol, t, None, "".join(parts).encode(), layout, origin, _TOPICS[interval]
    )


def _in(window: tuple[int | None, int | None] | None, t: int) -> bool:
    if window is None:
        return True
    lo, hi = window
    return (lo is None or t >= lo) and (hi is None or t < hi)


# -- recorded file layouts ------------------------------------------------------------------------

LAYOUT_VISION = "binance_kline_csv_12col"
LAYOUT_TICKER = "binance_kline_csv_ohlcv_ticker"
LAYOUT_CDD = "cdd_kline_csv"
LAYOUT_CLOSE_DT = "binance_kline_csv_close_datetime"
LAYOUT_REST_JSON = "binance_rest_klines_json"
LAYOUT_WS_CAPTURE = "cryptofeed_ws_capture"
LAYOUT_WS = "binance_ws"  # live frames / Kafka values
LAYOUT_REST = "binance_rest"

_VISION_NAME = re.compile(r"^([A-Z0-9]+)-(\d+[mhdw])-")
_TICKER_NAME = re.compile(r"^([A-Z0-9]+)_(\d+[mhdw])\b")
_CDD_NAME = re.compile(r"^Binance_([A-Z0-9]+)_(\d+[mhdw])\b")
_REST_NAME = re.compile(r"^([a-z0-9]+)-(\d+[mhdw])\b")


def detect(path: Path, head: bytes) -> str | None:
    """The Binance layout of a recorded file, from its name and first bytes."""
    first = head.split(b"\n", 1)[0].strip().lower()
    if first.startswith(b"open_time,open,high,low,close,volume,close_time") or (
        re.match(rb"^\d{13},[\d.]+,[\d.]+,[\d.]+,[\d.]+,[\d.]+,\d{13},", first)
    ):
        return LAYOUT_VISION
    if first == b"date,open,high,low,close,volume,ticker":
        return LAYOUT_TICKER
    if first.startswith(b"unix,date,symbol,open,high,low,close,volume"):
        return LAYOUT_CDD
    if first.startswith(b"open,high,low,close,volume,quote_volume,trades,close_datetime"):
        return LAYOUT_CLOSE_DT
    if re.match(rb"^\s*\[\s*\[\s*\d{13}\s*,\s*\"", head):
        return LAYOUT_REST_JSON
    if first.startswith(b"wss://") and b"<->" in first and b"binance" in first:
        return LAYOUT_WS_CAPTURE
    return None


def _name_parts(path: Path, pattern: re.Pattern[str], layout: str) -> tuple[str, str]:
    name = path.name.removesuffix(".gz")
    m = pattern.match(name)
    if not m:
        raise ValueError(f"{path}: cannot tell symbol and interval from the file name ({layout})")
    return m.group(1), m.group(2)


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for i, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield i, line


def _slow(path: Path, data: bytes, reader: Any, now: int | None) -> Any:
    """Re-parse single lines with the row-wise ``reader`` (for rows the vector checks refused)."""
    lines = data.splitlines(keepends=True)
    header = lines[0]

    def row(no: int, _: dict[str, Any]) -> Record | Reject:
        items = list(reader(path, header + lines[no - 1], now=now, vector=False))
        item = items[0]
        origin = f"{path.name}:{no}"
        if isinstance(item, Reject):
            return Reject(item.reason, item.raw, item.layout, origin, item.feed)
        return Record(
            item.feed,
            item.key,
            item.event_ms,
            item.row,
            item.payload,
            item.layout,
            origin,
            item.topic,
        )

    return row


def _vector_ticker(
    path: Path, data: bytes, interval: str, step: int, window: Any, now: int | None
) -> list[Record | Reject] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cryptolake.ingest.binance import _vector

    names = ["date", "open", "high", "low", "close", "volume", "ticker"]
    if not data.startswith(b"date,open,high,low,close,volume,ticker"):
        return None
    table = _vector.read_table(data, names)
    if table is None:
        return None
    if not pc.all(pc.equal(pc.utf8_length(table["date"]), 19)).as_py() and table.num_rows:
        return None
    ts = pc.strptime(table["date"], format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    t = pc.cast(ts, pa.int64())
    return _vector.klines(
        table,
        symbol=table["ticker"],
        interval=interval,
        t=t,
        close=pc.add(t, step - 1),
        prices=("open", "high", "low", "close", "volume"),
        topic=_TOPICS[interval],
        layout=LAYOUT_TICKER,
        origin_name=path.name,
        window=window,
        now=now,
        slow_row=_slow(path, data, read_ticker_csv, now),
    )


def _vector_close_dt(
    path: Path, data: bytes, symbol: str, interval: str, step: int, window: Any, now: int | None
) -> list[Record | Reject] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cryptolake.ingest.binance import _vector

    names = ["open", "high", "low", "close", "volume", "quote_volume", "trades", "close_datetime"]
    table = _vector.read_table(data, names)
    if table is None:
        return None
    try:
        close_us = pc.cast(
            pc.cast(table["close_datetime"], pa.timestamp("us", tz="UTC")), pa.int64()
        )
        n = pc.cast(table["trades"], pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    close = pc.divide(close_us, 1000)
    return _vector.klines(
        table,
        symbol=symbol,
        interval=interval,
        t=pc.subtract(close, step - 1),
        close=close,
        prices=("open", "high", "low", "close", "volume"),
        extras=("quote_volume", None, None, None),
        n=n,
        topic=_TOPICS[interval],
        layout=LAYOUT_CLOSE_DT,
        origin_name=path.name,
        window=window,
        now=now,
        slow_row=_slow(path, data, read_close_datetime_csv, now),
    )


def _vector_vision(
    path: Path, data: bytes, symbol: str, interval: str, window: Any, now: int | None
) -> list[Record | Reject] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cryptolake.ingest.binance import _vector

    if not data.startswith(b"open_time,"):
        return None  # headerless archives: the row-wise parser
    names = [
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "close_time",
        "quote_volume",
        "count",
        "taker_buy_volume",
        "taker_buy_quote_volume",
        "ignore",
    ]
    table = _vector.read_table(data, names)
    if table is None:
        return None
    try:
        t = pc.cast(table["open_time"], pa.int64())
        close = pc.cast(table["close_time"], pa.int64())
        n = pc.cast(table["count"], pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows and pc.max(t).as_py() > 10**14:
        return None  # microsecond archives: the row-wise parser converts them
    return _vector.klines(
        table,
        symbol=symbol,
        interval=interval,
        t=t,
        close=close,
        prices=("open", "high", "low", "close", "volume"),
        extras=("quote_volume", "taker_buy_volume", "taker_buy_quote_volume", None),
        n=n,
        topic=_TOPICS[interval],
        layout=LAYOUT_VISION,
        origin_name=path.name,
        window=window,
        now=now,
        slow_row=_slow(path, data, read_vision, now),
    )


def read_vision(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
    vector: bool = True,
) -> Iterator[Record | Reject]:
    """data.binance.vision kline CSV: 12 columns, with or without a header, ms or µs times."""
    symbol, interval = _name_parts(path, _VISION_NAME, LAYOUT_VISION)
    fast = _vector_vision(path, data, symbol, interval, window, now) if vector else None
    if fast is not None:
        yield from fast
        return
    for no, line in _lines(data):
        if no == 1 and line.startswith(b"open_time"):
            continue
        origin = f"{path.name}:{no}"
        f = line.decode(errors="replace").split(",")
        if len(f) < 11:
            yield Reject(
                f"expected 12 comma-separated fields, got {len(f)}",
                line,
                LAYOUT_VISION,
                origin,
                KLINES,
            )
            continue
        try:
            t = as_int(f[0], "open_time", "vision csv")
            close = as_int(f[6], "close_time", "vision csv")
            n = as_int(f[8], "count", "vision csv")
        except RecordRejected as exc:
            yield Reject(exc.reason, line, LAYOUT_VISION, origin, KLINES)
            continue
        if t > 10**14:  # newer archives write microseconds
            t, close = t // 1000, close // 1000
        if _in(window, t):
            yield fast_kline(
                symbol,
                interval,
                t,
                close,
                f[1],
                f[2],
                f[3],
                f[4],
                f[5],
                f[7],
                n,
                f[9],
                f[10],
                raw=line,
                layout=LAYOUT_VISION,
                origin=origin,
                now=now,
            )


def _utc_ms(text: str) -> int:
    from datetime import UTC

    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def _date_text(ms: int) -> bytes:
    return ms_to_dt(ms).strftime("%Y-%m-%d %H:%M:%S").encode()  # type: ignore[union-attr]


def read_ticker_csv(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
    vector: bool = True,
) -> Iterator[Record | Reject]:
    """``date,open,high,low,close,volume,ticker`` (python-binance, first 6 kline fields)."""
    _, interval = _name_parts(path, _TICKER_NAME, LAYOUT_TICKER)
    step = INTERVAL_MS[interval]
    fast = _vector_ticker(path, data, interval, step, window, now) if vector else None
    if fast is not None:
        yield from fast
        return
    # the date text sorts like the time: skip lines outside the window before parsing them
    lo_b = _date_text(window[0]) if window and window[0] is not None else None
    hi_b = _date_text(window[1]) if window and window[1] is not None else None
    for no, line in _lines(data):
        if no == 1:
            continue
        outside = (lo_b is not None and line[:19] < lo_b) or (
            hi_b is not None and line[:19] >= hi_b
        )
        if outside and line[4:5] == b"-" and line[19:20] == b",":
            continue
        origin = f"{path.name}:{no}"
        f = line.decode(errors="replace").split(",")
        if len(f) != 7:
            yield Reject(
                f"expected 7 fields (date,open,high,low,close,volume,ticker), got {len(f)}",
                line,
                LAYOUT_TICKER,
                origin,
                KLINES,
            )
            continue
        try:
            if len(f[0]) != 19:
                raise ValueError(f[0])
            t = _utc_ms(f[0])
        except ValueError:
            yield Reject(
                f"field 'date' is not 'YYYY-MM-DD HH:MM:SS': {f[0]!r}",
                line,
                LAYOUT_TICKER,
                origin,
                KLINES,
            )
            continue
        if _in(window, t):
            yield fast_kline(
                f[6].strip(),
                interval,
                t,
                t + step - 1,
                f[1],
                f[2],
                f[3],
                f[4],
                f[5],
                raw=line,
                layout=LAYOUT_TICKER,
                origin=origin,
                now=now,
            )


def read_cdd(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
) -> Iterator[Record | Reject]:
    """CryptoDataDownload export: epoch ms or seconds, 12-hour dates, duplicates, descending."""
    _, interval = _name_parts(path, _CDD_NAME, LAYOUT_CDD)
    step = INTERVAL_MS[interval]
    for no, line in _lines(data):
        if no == 1 and line.lower().startswith(b"unix,"):
            continue
        origin = f"{path.name}:{no}"
        text = line.decode(errors="replace")
        f = next(csv.reader(io.StringIO(text))) if '"' in text else text.split(",")
        if len(f) < 9:
            yield Reject(
                f"expected 10 fields (unix,date,symbol,open,high,low,close,volume base,"
                f"volume quote,tradecount), got {len(f)}",
                line,
                LAYOUT_CDD,
                origin,
                KLINES,
            )
            continue
        try:
            unix = float(f[0])
        except ValueError:
            yield Reject(
                f"field 'unix' is not a number: {f[0]!r}", line, LAYOUT_CDD, origin, KLINES
            )
            continue
        t = int(unix) if unix > 10**11 else int(round(unix * 1000))  # ms, or seconds with ".0"
        symbol = f[2].replace("/", "").replace("-", "").strip().upper()
        n = None
        if len(f) > 9 and f[9].strip() not in ("", "NULL", "null", "NaN"):
            try:
                n = as_int(f[9], "tradecount", "cdd csv")
            except RecordRejected as exc:
                yield Reject(exc.reason, line, LAYOUT_CDD, origin, KLINES)
                continue
        if _in(window, t):
            yield fast_kline(
                symbol,
                interval,
                t,
                t + step - 1,
                f[3],
                f[4],
                f[5],
                f[6],
                f[7],
                f[8],
                n,
                raw=line,
                layout=LAYOUT_CDD,
                origin=origin,
                now=now,
            )


def read_close_datetime_csv(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
    vector: bool = True,
) -> Iterator[Record | Reject]:
    """pandas export without open time: ``close_datetime`` in local time with a UTC offset."""
    symbol, interval = _name_parts(path, _TICKER_NAME, LAYOUT_CLOSE_DT)
    step = INTERVAL_MS[interval]
    fast = _vector_close_dt(path, data, symbol, interval, step, window, now) if vector else None
    if fast is not None:
        yield from fast
        return
    for no, line in _lines(data):
        if no == 1:
            continue
        origin = f"{path.name}:{no}"
        f = line.decode(errors="replace").split(",")
        if len(f) != 8:
            yield Reject(f"expected 8 fields, got {len(f)}", line, LAYOUT_CLOSE_DT, origin, KLINES)
            continue
        try:
            close = datetime.fromisoformat(f[7].strip())
            if close.tzinfo is None:
                raise ValueError("no UTC offset")
        except ValueError as exc:
            yield Reject(
                f"field 'close_datetime' is not an ISO time with offset: {f[7]!r} ({exc})",
                line,
                LAYOUT_CLOSE_DT,
                origin,
                KLINES,
            )
            continue
        close_ms = int(close.timestamp()) * 1000 + close.microsecond // 1000
        try:
            n = as_int(f[6], "trades", "1m csv")
        except RecordRejected as exc:
            yield Reject(exc.reason, line, LAYOUT_CLOSE_DT, origin, KLINES)
            continue
        t = close_ms - step + 1
        if _in(window, t):
            yield fast_kline(
                symbol,
                interval,
                t,
                close_ms,
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                f[5],
                n,
                raw=line,
                layout=LAYOUT_CLOSE_DT,
                origin=origin,
                now=now,
            )


def read_rest_json(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
) -> Iterator[Record | Reject]:
    """A saved ``/api/v3/klines`` response: one JSON array of 12-field arrays."""
    base, interval = _name_parts(path, _REST_NAME, LAYOUT_REST_JSON)
    # recorded as <base>-<interval>.json, quoted in USDT (e.g. btc-1d.json -> BTCUSDT)
    symbol = base.upper() if base.upper().endswith("USDT") else base.upper() + "USDT"
    try:
        arrays = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield Reject(f"unparsable JSON: {exc}", data[:4096], LAYOUT_REST_JSON, path.name, KLINES)
        return
    if not isinstance(arrays, list):
        yield Reject(
            "expected a JSON array of kline arrays",
            data[:4096],
            LAYOUT_REST_JSON,
            path.name,
            KLINES,
        )
        return
    for i, arr in enumerate(arrays):
        origin = f"{path.name}#{i}"
        if (
            window is not None
            and isinstance(arr, list)
            and arr
            and isinstance(arr[0], int)
            and not _in(window, arr[0])
        ):
            continue
        try:
            event = rest_kline_event(arr, symbol, interval)
            event["k"]["x"] = True
            yield event_record(event, dumps(event), layout=LAYOUT_REST_JSON, origin=origin, now=now)
        except RecordRejected as exc:
            yield Reject(exc.reason, dumps(arr), LAYOUT_REST_JSON, origin, KLINES)


def read_ws_capture(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: tuple[int | None, int | None] | None = None,
) -> Iterator[Record | Reject]:
    """cryptofeed raw recorder file: ``<recv epoch s>: <frame>`` per line after the URL line."""
    for no, line in _lines(data):
        if no == 1 and line.startswith(b"wss://"):
            continue
        origin = f"{path.name}:{no}"
        ts, sep, frame = line.partition(b": ")
        if not sep:
            yield Reject("expected '<epoch seconds>: <frame>'", line, LAYOUT_WS_CAPTURE, origin)
            continue
        try:
            stream, body = split_frame(frame)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield Reject(f"unparsable websocket frame: {exc}", line, LAYOUT_WS_CAPTURE, origin)
            continue
        if not is_ingested_stream(stream):
            continue  # depth / bookTicker: streams no Bronze feed takes
        yield parse_event_bytes(body, layout=LAYOUT_WS_CAPTURE, origin=origin, now=now)


READERS: dict[str, Any] = {
    LAYOUT_VISION: read_vision,
    LAYOUT_TICKER: read_ticker_csv,
    LAYOUT_CDD: read_cdd,
    LAYOUT_CLOSE_DT: read_close_datetime_csv,
    LAYOUT_REST_JSON: read_rest_json,
    LAYOUT_WS_CAPTURE: read_ws_capture,
}


ROW_BUILDERS[KLINES] = kline_row
ROW_BUILDERS[AGG_TRADES] = agg_trade_row
