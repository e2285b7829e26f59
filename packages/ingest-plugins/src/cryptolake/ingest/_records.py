"""What every parser produces: a :class:`Record` bound for Kafka and/or Bronze, or a :class:`Reject`.

A parser never invents a value: a field the source lacks stays absent (``None`` in Bronze), and a
field the source sends wrongly rejects the whole record with a reason naming the field.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from cryptolake.core import RecordRejected

#: Reject timestamps more than this far in the future of the wall clock.
FUTURE_TOLERANCE_MS = 5 * 60 * 1000


class Record(NamedTuple):
    """One source record: its Bronze row (without metadata) and the bytes that travel.

    A named tuple: replay creates 10^5 of them per second, and a frozen dataclass costs
    several times more to build.
    """

    feed: str  # Bronze table short name, e.g. "binance_klines"
    key: str  # Kafka key: symbol or coin id
    event_ms: int  # event time (ordering, partitioning)
    #: The Bronze row; ``None`` for records validated on a fast path (built on demand from the
    #: payload by :func:`bronze_row`).
    row: dict[str, Any] | None
    payload: bytes  # Kafka value / raw record, stored in Bronze ``payload``
    layout: str
    origin: str
    topic: str | None = None  # un-prefixed Kafka topic, for records that go through Kafka

    @property
    def payload_sha256(self) -> str:
        return sha256_hex(self.payload)

    def bronze_row(self) -> dict[str, Any]:
        if self.row is not None:
            return self.row
        return ROW_BUILDERS[self.feed](json.loads(self.payload))


#: Bronze row builders of records whose row is made on demand, by feed.
ROW_BUILDERS: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Reject:
    """A record no parser accepted; goes to ``bronze.rejects``."""

    reason: str
    raw: bytes | str
    layout: str | None = None
    origin: str | None = None
    feed: str | None = None

    @property
    def raw_text(self) -> str:
        if isinstance(self.raw, str):
            return self.raw
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return repr(self.raw)

    @property
    def raw_sha256(self) -> str:
        return sha256_hex(self.raw if isinstance(self.raw, bytes) else self.raw.encode())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(obj: Any) -> bytes:
    """Compact, deterministic JSON (the bytes of a synthesised Kafka value)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def now_ms() -> int:
    return int(time.time() * 1000)


def ms_to_dt(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


#: Latest epoch ms a calendar (and a Bronze timestamp) holds: 9999-12-31.
MAX_MS = 253_402_214_400_000


def time_field(value: Any, field: str, what: str) -> datetime:
    """An epoch-ms field as a UTC datetime; a value no calendar holds rejects the record."""
    ms = as_int(value, field, what)
    if not 0 <= ms < MAX_MS:
        raise RecordRejected(what, f"field {field!r} = {ms} is not an epoch-ms time")
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso(ms: int) -> str:
    """``ms`` as an ISO time, or as the number when no calendar holds it (year > 9999)."""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms since the epoch"


def dt_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


# -- field checks used by every parser --------------------------------------------------------


def fail(source: str, reason: str, raw: Any = None) -> RecordRejected:
    return RecordRejected(source, reason, raw)


def need(obj: dict[str, Any], field: str, what: str) -> Any:
    if not isinstance(obj, dict):
        raise RecordRejected(what, f"expected a JSON object, got {type(obj).__name__}")
    if field not in obj or obj[field] is None:
        raise RecordRejected(what, f"missing field {field!r}")
    return obj[field]


def as_int(value: Any, field: str, what: str) -> int:
    if isinstance(value, bool):
        raise RecordRejected(what, f"field {field!r} must be an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                f = math.nan
            if math.isfinite(f) and f.is_integer():
                return int(f)
    raise RecordRejected(what, f"field {field!r} must be an integer, got {value!r}")


def decimal_text(
    value: Any, field: str, what: str, *, positive: bool = True, allow_zero: bool = False
) -> str:
    """A price or quantity as the source's decimal text, checked to be a finite number."""
    if isinstance(value, bool) or value is None:
        raise RecordRejected(what, f"field {field!r} must be a number, got {value!r}")
    text = value if isinstance(value, str) else repr(value)
    text = text.strip()
    try:
        f = float(text)
    except ValueError:
        raise RecordRejected(what, f"field {field!r} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise RecordRejected(what, f"field {field!r} is not finite: {value!r}")
    if positive and (f < 0 or (f == 0 and not allow_zero)):
        kind = "non-negative" if allow_zero else "positive"
        raise RecordRejected(what, f"field {field!r} must be {kind}, got {value!r}")
    return text


def as_float(
    value: Any, field: str, what: str, *, positive: bool = False, nullable: bool = False
) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or value is None:
        raise RecordRejected(what, f"field {field!r} must be a number, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise RecordRejected(what, f"field {field!r} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise RecordRejected(what, f"field {field!r} is not finite: {value!r}")
    if positive and f <= 0:
        raise RecordRejected(what, f"field {field!r} must be positive, got {value!r}")
    return f


def check_time(ms: int, field: str, what: str, *, now: int | None = None) -> int:
    if ms < 1_230_768_000_000:  # 2009-01-01: before any crypto market data
        raise RecordRejected(what, f"field {field!r} = {ms} is not a plausible epoch-ms time")
    limit = (now if now is not None else now_ms()) + FUTURE_TOLERANCE_MS
    if ms > limit:
        raise RecordRejected(
            what,
            f"field {field!r} = {iso(ms)} is in the future",
        )
    return ms
