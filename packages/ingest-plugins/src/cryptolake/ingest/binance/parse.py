"""Binance parsing, one module per kind of input (this module gathers their public names).

- :mod:`~cryptolake.ingest.binance.events` — websocket frames, REST arrays and objects, and the
  Bronze rows of kline and aggTrade events (also used by the Kafka → Bronze sink);
- :mod:`~cryptolake.ingest.binance.kline` — one recorded kline by name, and its Kafka value;
- :mod:`~cryptolake.ingest.binance.csv_layouts` — candle CSVs, read by their header;
- :mod:`~cryptolake.ingest.binance.json_layouts` — saved REST responses, websocket captures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptolake.ingest.binance import csv_layouts, json_layouts
from cryptolake.ingest.binance.csv_layouts import (
    LAYOUT_CDD,
    LAYOUT_CLOSE_DT,
    LAYOUT_HEADER,
    LAYOUT_TICKER,
    LAYOUT_VISION,
    read_cdd,
    read_close_datetime_csv,
    read_kline_csv,
    read_ticker_csv,
    read_vision,
)
from cryptolake.ingest.binance.events import (
    AGG_TRADE_TOPIC,
    AGG_TRADES,
    INGESTED_STREAM_SUFFIXES,
    INTERVAL_MS,
    KLINES,
    LAYOUT_REST,
    LAYOUT_WS,
    agg_trade_row,
    event_record,
    is_ingested_stream,
    kline_row,
    kline_topic,
    parse_event_bytes,
    rest_agg_trade_event,
    rest_kline_event,
    split_frame,
)
from cryptolake.ingest.binance.json_layouts import (
    LAYOUT_REST_JSON,
    LAYOUT_WS_CAPTURE,
    read_rest_json,
    read_ws_capture,
)
from cryptolake.ingest.binance.kline import Kline, kline_record


def detect(path: Path, head: bytes) -> str | None:
    """The Binance layout of a recorded file, from its first bytes."""
    return json_layouts.detect(path, head) or csv_layouts.detect(path, head)


READERS: dict[str, Any] = {**csv_layouts.READERS, **json_layouts.READERS}

__all__ = [
    "AGG_TRADES",
    "AGG_TRADE_TOPIC",
    "INGESTED_STREAM_SUFFIXES",
    "INTERVAL_MS",
    "KLINES",
    "LAYOUT_CDD",
    "LAYOUT_CLOSE_DT",
    "LAYOUT_HEADER",
    "LAYOUT_REST",
    "LAYOUT_REST_JSON",
    "LAYOUT_TICKER",
    "LAYOUT_VISION",
    "LAYOUT_WS",
    "LAYOUT_WS_CAPTURE",
    "READERS",
    "Kline",
    "agg_trade_row",
    "detect",
    "event_record",
    "is_ingested_stream",
    "kline_record",
    "kline_row",
    "kline_topic",
    "parse_event_bytes",
    "read_cdd",
    "read_close_datetime_csv",
    "read_kline_csv",
    "read_rest_json",
    "read_ticker_csv",
    "read_vision",
    "read_ws_capture",
    "rest_agg_trade_event",
    "rest_kline_event",
    "split_frame",
]
