"""Alternative.me Fear & Greed parser: ``/fng/?limit=N&format=json`` responses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import Record, Reject, as_int, check_time, dumps, ms_to_dt, need

FEED = "fear_greed"
LAYOUT = "feargreed_json"
CLASSES = ("Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed")


def records(
    doc: Any, *, origin: str, layout: str = LAYOUT, now: int | None = None
) -> Iterator[Record | Reject]:
    what = "fear & greed"
    if isinstance(doc, list):  # the history as a bare array: the API's 'data' without the envelope
        doc = {"data": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        yield Reject(
            "expected an object with a 'data' array, or an array of index entries",
            dumps(doc)[:4096],
            layout,
            origin,
            FEED,
        )
        return
    meta = doc.get("metadata")
    if isinstance(meta, dict) and meta.get("error"):
        yield Reject(
            f"the API reported an error: {meta['error']!r}", dumps(doc)[:4096], layout, origin, FEED
        )
        return
    for i, item in enumerate(doc["data"]):
        payload = dumps(item)
        o = f"{origin}#{i}"
        try:
            ts = check_time(
                as_int(need(item, "timestamp", what), "timestamp", what) * 1000,
                "timestamp",
                what,
                now=now,
            )
            value = as_int(need(item, "value", what), "value", what)
            if not 0 <= value <= 100:
                raise RecordRejected(what, f"field 'value' must be 0..100, got {value}")
            cls = need(item, "value_classification", what)
            if cls not in CLASSES:
                raise RecordRejected(what, f"field 'value_classification' is unknown: {cls!r}")
            tuu = item.get("time_until_update")
            row = {
                "ts": ms_to_dt(ts),
                "value": value,
                "value_classification": cls,
                "time_until_update": as_int(tuu, "time_until_update", what)
                if tuu is not None
                else None,
            }
        except RecordRejected as exc:
            yield Reject(exc.reason, payload, layout, o, FEED)
            continue
        yield Record(FEED, "fear_greed", ts, row, payload, layout, o)


def detect(path: Path, head: bytes) -> str | None:
    compact = re.sub(rb"\s+", b"", head[:1024])
    if compact.startswith(b'{"name":"FearandGreedIndex"') or compact.startswith(b'{"name":"Fear'):
        return LAYOUT
    # a bare array of entries: {"value", "value_classification", "timestamp"} in any order
    if compact.startswith(b"[{") and b'"value_classification":' in compact[:400]:
        return LAYOUT
    return None


def read(path: Path, data: bytes, now: int | None = None) -> Iterator[Record | Reject]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield Reject(f"unparsable JSON: {exc}", data[:4096], LAYOUT, path.name, FEED)
        return
    yield from records(doc, origin=path.name, now=now)


READERS: dict[str, Any] = {LAYOUT: read}
