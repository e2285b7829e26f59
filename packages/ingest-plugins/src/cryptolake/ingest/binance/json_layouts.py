"""Recorded Binance JSON: a saved ``/api/v3/klines`` response, a cryptofeed websocket capture."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import Record, Reject, dumps
from cryptolake.ingest.binance.events import (
    INTERVAL_MS,
    KLINES,
    event_record,
    is_ingested_stream,
    parse_event_bytes,
    rest_kline_event,
    split_frame,
)

LAYOUT_REST_JSON = "binance_rest_klines_json"
LAYOUT_WS_CAPTURE = "cryptofeed_ws_capture"
_REST_NAME = re.compile(r"^([A-Za-z0-9]+)[-_](\d+[mhdw])\b")
Window = tuple[int | None, int | None] | None


def detect(path: Path, head: bytes) -> str | None:
    if re.match(rb"^\s*\[\s*\[\s*\d{13}\s*,\s*\"", head):
        return LAYOUT_REST_JSON
    first = head.split(b"\n", 1)[0].strip().lower()
    if first.startswith(b"wss://") and b"<->" in first and b"binance" in first:
        return LAYOUT_WS_CAPTURE
    return None


def _in(window: Window, t: int) -> bool:
    if window is None:
        return True
    lo, hi = window
    return (lo is None or t >= lo) and (hi is None or t < hi)


def read_rest_json(
    path: Path, data: bytes, now: int | None = None, window: Window = None
) -> Iterator[Record | Reject]:
    """A saved ``/api/v3/klines`` response: one JSON array of 12-field arrays, named
    ``<base or symbol>-<interval>.json`` (``btc-1d.json`` is BTCUSDT: bases are quoted in USDT)."""
    m = _REST_NAME.match(path.name.removesuffix(".gz"))
    if not m or m.group(2) not in INTERVAL_MS:
        yield Reject(
            f"cannot tell the symbol and interval from the file name {path.name!r} "
            "(expected <symbol>-<interval>.json, e.g. btc-1d.json)",
            data[:4096],
            LAYOUT_REST_JSON,
            path.name,
            KLINES,
        )
        return
    base, interval = m.group(1).upper(), m.group(2)
    symbol = base if base.endswith("USDT") else base + "USDT"
    try:
        arrays = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield Reject(f"unparsable JSON: {exc}", data[:4096], LAYOUT_REST_JSON, path.name, KLINES)
        return
    if not isinstance(arrays, list):
        yield Reject(
            "expected a JSON array of kline arrays", data[:4096], LAYOUT_REST_JSON, path.name, KLINES
        )
        return
    for i, arr in enumerate(arrays):
        origin = f"{path.name}#{i}"
        if isinstance(arr, list) and arr and isinstance(arr[0], int) and not _in(window, arr[0]):
            continue
        try:
            event = rest_kline_event(arr, symbol, interval)
            event["k"]["x"] = True
            yield event_record(event, dumps(event), layout=LAYOUT_REST_JSON, origin=origin, now=now)
        except RecordRejected as exc:
            yield Reject(exc.reason, dumps(arr), LAYOUT_REST_JSON, origin, KLINES)


def read_ws_capture(
    path: Path, data: bytes, now: int | None = None, window: Window = None
) -> Iterator[Record | Reject]:
    """cryptofeed raw recorder file: ``<recv epoch s>: <frame>`` per line after the URL line."""
    for no, line in enumerate(data.splitlines(), start=1):
        if not line.strip() or (no == 1 and line.startswith(b"wss://")):
            continue
        origin = f"{path.name}:{no}"
        _, sep, frame = line.partition(b": ")
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


READERS: dict[str, Any] = {LAYOUT_REST_JSON: read_rest_json, LAYOUT_WS_CAPTURE: read_ws_capture}
