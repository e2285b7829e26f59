"""Candle intervals: parsing any duration, and where each is read from.

Stored timeframes are read as they are: ``1m`` (silver.ohlcv_1m) and ``1h``, ``4h``, ``1d``
(gold.market_ohlc). Any other duration is rolled up at query time from a stored timeframe that
divides it — sub-hour intervals from 1m candles, whole hours and longer from 1h candles (the same
bars gold.market_ohlc rolls its 4h and 1d candles up from, so a query-time 4h or 1d equals the
stored one). Buckets are aligned on the Unix epoch, weeks on Monday 00:00 UTC (like the
exchange's 1w klines): first open, max high, min low, last close, summed volumes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptolake.api.errors import BadIntervalError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RE = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
#: 1970-01-05 00:00 UTC was a Monday: week buckets are offset by four days from the epoch
WEEK_ORIGIN_S = 4 * 86400
MAX_SECONDS = 52 * 7 * 86400

STORED = {60: ("silver.ohlcv_1m", None), 3600: ("gold.market_ohlc", "1h"),
          4 * 3600: ("gold.market_ohlc", "4h"), 86400: ("gold.market_ohlc", "1d")}


@dataclass(frozen=True)
class Interval:
    label: str
    seconds: int

    @property
    def origin_s(self) -> int:
        return WEEK_ORIGIN_S if self.seconds % (7 * 86400) == 0 else 0

    @property
    def stored(self) -> bool:
        return self.seconds in STORED

    @property
    def base_seconds(self) -> int:
        """The stored timeframe this interval is read from (itself when stored)."""
        if self.stored:
            return self.seconds
        return 3600 if self.seconds % 3600 == 0 else 60

    @property
    def table(self) -> str:
        return STORED[self.base_seconds][0]

    @property
    def timeframe(self) -> str | None:
        return STORED[self.base_seconds][1]

    def bucket_start(self, epoch_s: int) -> int:
        o = self.origin_s
        return (epoch_s - o) // self.seconds * self.seconds + o


def parse_interval(text: str) -> Interval:
    m = _RE.match(text or "")
    if not m:
        raise BadIntervalError(
            f"interval {text!r} is not a duration: write a number and a unit (s, m, h, d, w), "
            "e.g. 1m, 5m, 15m, 1h, 4h, 1d, 1w"
        )
    n, unit = int(m.group(1)), m.group(2)
    seconds = n * _UNITS[unit]
    if seconds <= 0 or seconds % 60 != 0:
        raise BadIntervalError(
            f"interval {text!r}: the finest stored candles are 1 minute; use a whole number of minutes"
        )
    if seconds > MAX_SECONDS:
        raise BadIntervalError(f"interval {text!r} is longer than 52 weeks")
    return Interval(f"{n}{unit}", seconds)
