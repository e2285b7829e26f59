"""One recorded kline, by name, and its Kafka value built as text (replay's hot path).

:func:`kline_record` checks what :func:`~cryptolake.ingest.binance.events.kline_row` checks (the
sink builds the Bronze row from the value later) in a fraction of the time, and writes only the
fields the source had, in the order of Binance's websocket ``kline`` event.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import FUTURE_TOLERANCE_MS, Record, Reject, iso, now_ms
from cryptolake.ingest.binance.events import INTERVAL_MS, KLINES, _symbol, kline_topic

TOPICS = {i: kline_topic(i) for i in INTERVAL_MS}
MIN_MS = 1_230_768_000_000  # 2009-01-01: before any crypto market data
_GOOD_SYMBOLS: set[str] = set()
_WHAT = "binance kline"


class Kline(NamedTuple):
    """A closed kline as a recorded file holds it: times in epoch ms, numbers as their text."""

    symbol: str
    interval: str
    open_ms: int
    close_ms: int | None
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str | None = None
    trade_count: int | None = None
    taker_buy_base: str | None = None
    taker_buy_quote: str | None = None


def number_text(text: str, field: str, *, zero_ok: bool = False) -> str:
    """``text`` stripped, checked to be a finite positive (or, ``zero_ok``, non-negative) number."""
    t = text.strip()
    try:
        f = float(t)
    except ValueError:
        raise RecordRejected(_WHAT, f"field {field!r} must be a number, got {text!r}") from None
    if math.isnan(f) or math.isinf(f) or "_" in t:
        raise RecordRejected(_WHAT, f"field {field!r} is not a finite number: {text!r}")
    if f < 0 or (f == 0 and not zero_ok):
        kind = "non-negative" if zero_ok else "positive"
        raise RecordRejected(_WHAT, f"field {field!r} must be {kind}, got {text!r}")
    return t


def kline_record(
    k: Kline, *, raw: bytes, layout: str, origin: str, now: int | None = None
) -> Record | Reject:
    """The Kafka-bound record of ``k``, or a reject naming the field that failed."""
    try:
        if k.symbol not in _GOOD_SYMBOLS:
            _symbol(k.symbol, _WHAT)
            _GOOD_SYMBOLS.add(k.symbol)
        if k.interval not in TOPICS:
            raise RecordRejected(_WHAT, f"field 'k.i' (interval) is unknown: {k.interval!r}")
        t = k.open_ms
        if t < MIN_MS:
            raise RecordRejected(_WHAT, f"field 'k.t' = {t} is not a plausible epoch-ms time")
        if t > (now if now is not None else now_ms()) + FUTURE_TOLERANCE_MS:
            raise RecordRejected(_WHAT, f"field 'k.t' = {iso(t)} is in the future")
        if k.close_ms is not None and k.close_ms < t:
            raise RecordRejected(
                _WHAT, f"close time k.T={k.close_ms} is before open time k.t={t}"
            )
        if k.close_ms is not None and k.close_ms >= t + 2 * INTERVAL_MS[k.interval]:
            raise RecordRejected(
                _WHAT, f"close time k.T={k.close_ms} is more than an interval ({k.interval}) after k.t"
            )
        o, h = number_text(k.open, "k.o"), number_text(k.high, "k.h")
        low, c = number_text(k.low, "k.l"), number_text(k.close, "k.c")
        if float(h) < float(low):
            raise RecordRejected(_WHAT, f"high k.h={h} is below low k.l={low}")
        parts = [f'{{"e":"kline","s":"{k.symbol}","k":{{"t":{t}']
        if k.close_ms is not None:
            parts.append(f',"T":{k.close_ms}')
        parts.append(
            f',"s":"{k.symbol}","i":"{k.interval}","o":"{o}","c":"{c}","h":"{h}","l":"{low}"'
            f',"v":"{number_text(k.volume, "k.v", zero_ok=True)}"'
        )
        if k.trade_count is not None:
            if k.trade_count < 0:
                raise RecordRejected(_WHAT, f"field 'k.n' must be >= 0, got {k.trade_count}")
            parts.append(f',"n":{k.trade_count}')
        for key, value in (
            ("q", k.quote_volume),
            ("V", k.taker_buy_base),
            ("Q", k.taker_buy_quote),
        ):
            if value is not None:
                parts.append(f',"{key}":"{number_text(value, "k." + key, zero_ok=True)}"')
        parts.append(',"x":true}}')
    except RecordRejected as exc:
        return Reject(exc.reason, raw, layout, origin, KLINES)
    return Record(KLINES, k.symbol, t, None, "".join(parts).encode(), layout, origin, TOPICS[k.interval])
