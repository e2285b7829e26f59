"""Numbers and times formatted for people: thousands separators, adaptive price decimals, UTC labels.

Pure functions (no Reflex import): the states call them when they turn an API answer into the
strings a page shows, and the browser tests compare those strings with the API's own numbers run
through the same functions.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

#: a missing value, shown as such instead of "0" or "nan"
MISSING = "—"

#: prices keep this many significant digits, with 2 to 12 decimals (1e-8 … 1e5 and beyond)
PRICE_SIGNIFICANT = 6
PRICE_MIN_DECIMALS = 2
PRICE_MAX_DECIMALS = 12


def _number(value: object) -> Decimal | None:
    """``value`` as a finite Decimal, or None for None, "", NaN, ±inf or non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, Decimal):
            d = value
        elif isinstance(value, float):
            d = Decimal(repr(value))  # the shortest text that round-trips, not the binary value
        elif isinstance(value, int | str):
            d = Decimal(value.strip() if isinstance(value, str) else value)
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _fixed(d: Decimal, decimals: int) -> str:
    """``d`` rounded half-even to ``decimals`` places, with a comma every three integer digits."""
    q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    if q == 0:
        q = abs(q)  # no "-0.00"
    return f"{q:,.{decimals}f}"


def thousands(value: object, decimals: int = 0) -> str:
    """``1234567.891`` → ``"1,234,568"`` (``decimals=2``: ``"1,234,567.89"``)."""
    d = _number(value)
    return MISSING if d is None else _fixed(d, decimals)


def price_decimals(value: object) -> int:
    """How many decimals a price gets: ``PRICE_SIGNIFICANT`` significant digits, within
    ``[PRICE_MIN_DECIMALS, PRICE_MAX_DECIMALS]``."""
    d = _number(value)
    if d is None or d == 0:
        return PRICE_MIN_DECIMALS
    exponent = math.floor(math.log10(abs(float(d))))
    return max(PRICE_MIN_DECIMALS, min(PRICE_MAX_DECIMALS, PRICE_SIGNIFICANT - 1 - exponent))


def price(value: object, currency: str = "") -> str:
    """A price with adaptive decimals: ``67012.3456`` → ``"67,012.35"``, ``0.00001234`` →
    ``"0.0000123400"``, ``1e-8`` → ``"0.0000000100000"`` capped at 12 decimals."""
    d = _number(value)
    if d is None:
        return MISSING
    text = _fixed(d, price_decimals(d))
    return f"{currency}{text}" if currency else text


def percent(value: object, *, fraction: bool = False, decimals: int = 2, signed: bool = True) -> str:
    """``1.234`` → ``"+1.23 %"``; with ``fraction=True`` the value is a ratio (``0.01234``)."""
    d = _number(value)
    if d is None:
        return MISSING
    if fraction:
        d = d * 100
    text = _fixed(d, decimals)
    if signed and not text.startswith("-") and Decimal(text.replace(",", "")) != 0:
        text = "+" + text
    return f"{text} %"


def compact(value: object, decimals: int = 2) -> str:
    """Large quantities for narrow cells: ``1234567`` → ``"1.23 M"`` (K, M, B, T)."""
    d = _number(value)
    if d is None:
        return MISSING
    for size, suffix in ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"),
                         (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")):
        if abs(d) >= size:
            return f"{_fixed(d / size, decimals)} {suffix}"
    return _fixed(d, decimals if d != d.to_integral_value() else 0)


def to_datetime(value: object) -> datetime | None:
    """An API time (ISO-8601 text, epoch seconds or milliseconds, a datetime) as an aware UTC
    datetime; naive values are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if abs(value) > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def utc(value: object, *, seconds: bool = False, date_only: bool = False) -> str:
    """``"2024-05-01T12:00:00+02:00"`` → ``"2024-05-01 10:00 UTC"``: every time shown is UTC,
    and says so."""
    dt = to_datetime(value)
    if dt is None:
        return MISSING
    if date_only:
        return dt.strftime("%Y-%m-%d") + " UTC"
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"


def duration(seconds: object) -> str:
    """A lag or an age: ``45`` → ``"45 s"``, ``3720`` → ``"1 h 2 min"``, ``200000`` → ``"2 d 7 h"``."""
    d = _number(seconds)
    if d is None:
        return MISSING
    s = int(abs(d))
    sign = "-" if d < 0 else ""
    if s < 60:
        return f"{sign}{s} s"
    if s < 3600:
        return f"{sign}{s // 60} min {s % 60} s" if s % 60 else f"{sign}{s // 60} min"
    if s < 86400:
        return f"{sign}{s // 3600} h {s % 3600 // 60} min"
    return f"{sign}{s // 86400} d {s % 86400 // 3600} h"
