"""Fuzzing every input boundary: websocket frames, REST bodies, Kafka messages, recorded files.

Whatever arrives, a parser returns records or rejects with a reason; it never raises.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptolake.ingest._records import Record, Reject
from cryptolake.ingest.binance import client as binance_client
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.binance.config import LiveConfig
from cryptolake.ingest.coingecko import parse as coingecko
from cryptolake.ingest.feargreed import parse as feargreed
from cryptolake.ingest.http import Response

#: CI runs a fixed, fast set; CRYPTOLAKE_FUZZ_EXAMPLES=5000 runs a longer, random one
_LONG = int(os.environ.get("CRYPTOLAKE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_LONG or 100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not _LONG,
)
#: files go through pyarrow: fewer examples
FILES = settings(FUZZ, max_examples=_LONG // 4 or 40)
NOW = 1_733_011_200_000  # 2024-12-01

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)

KLINE = {
    "e": "kline",
    "E": 1733007660000,
    "s": "BTCUSDT",
    "k": {
        "t": 1733007600000, "T": 1733007659999, "s": "BTCUSDT", "i": "1m", "f": 1, "L": 9,
        "o": "96000.1", "c": "96010.0", "h": "96020.5", "l": "95990.0", "v": "12.5", "n": 9,
        "x": True, "q": "1200000.0", "V": "6.1", "Q": "585000.0", "B": "0",
    },
}
AGG = {
    "e": "aggTrade", "E": 1733007601000, "s": "BTCUSDT", "a": 3300000000, "p": "96000.10",
    "q": "0.0125", "f": 4200000000, "l": 4200000001, "T": 1733007601000, "m": False, "M": True,
}


@st.composite
def mutated_events(draw: Any) -> Any:
    """A real-shaped event with one field (or one kline field) replaced by anything."""
    event = json.loads(json.dumps(draw(st.sampled_from([KLINE, AGG]))))
    target = event["k"] if "k" in event and draw(st.booleans()) else event
    key = draw(st.sampled_from(sorted(target)) | st.text(max_size=3))
    if draw(st.booleans()):
        target[key] = draw(json_values)
    else:
        target.pop(key, None)
    return event


def _check(item: Any) -> None:
    assert isinstance(item, Record | Reject), item
    if isinstance(item, Reject):
        assert item.reason.strip()
    else:
        item.bronze_row()  # the sink can build the Bronze row of every accepted record


@FUZZ
@given(st.binary(max_size=300) | mutated_events().map(lambda e: json.dumps(e).encode()))
def test_kafka_messages(payload: bytes) -> None:
    _check(binance.parse_event_bytes(payload, layout="binance_ws", origin="fuzz", now=NOW))


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300),
        mutated_events().map(lambda e: json.dumps({"stream": "btcusdt@kline_1m", "data": e})),
        json_values.map(lambda v: json.dumps({"stream": "btcusdt@aggTrade", "data": v})),
    )
)
def test_websocket_frames(frame: bytes | str) -> None:
    out: list[Record] = []
    rejects: list[Reject] = []
    stream = _stream()
    stream.emit_record, stream.reject = out.append, rejects.append
    stream.stats = binance_client.LiveStats()
    asyncio.run(stream._handle(frame))
    stats = stream.stats
    handled = len(out) + len(rejects) + stats.skipped_streams + stats.duplicates
    assert handled == 1 and all(r.reason.strip() for r in rejects)
    for rec in out:
        _check(rec)


_STREAM: list[binance_client.LiveStream] = []


def _stream() -> binance_client.LiveStream:
    """One stream for every example (its HTTP client is never used: backfill is off)."""
    if not _STREAM:
        cfg = LiveConfig(symbols=["BTCUSDT"], rest_url="http://127.0.0.1:9", backfill=False)
        _STREAM.append(binance_client.LiveStream(cfg, emit=print, reject=print))
    _STREAM[0].gaps = binance_client.GapTracker()
    return _STREAM[0]


class _Http:
    """Answers every request with one fuzzed body (the exchange's side of the boundary)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.calls = 0

    def get_json(self, path: str, params: Any = None, *, weight: int = 1) -> Response:
        self.calls += 1
        body = json.dumps(self.data, allow_nan=True).encode()
        return Response(f"http://x{path}", self.data, body, NOW, {})


rest_klines = st.lists(
    st.lists(json_values, max_size=13)
    | st.just([1733007600000, "1", "2", "0.5", "1.5", "10", 1733007659999, "15", 3, "5", "7", "0"])
    | json_values,
    max_size=5,
) | json_values


@FUZZ
@given(rest_klines)
def test_rest_kline_bodies(data: Any) -> None:
    http = _Http(data)
    items = list(binance_client.fetch_klines(http, "BTCUSDT", "1m", 0, 2**50))  # type: ignore[arg-type]
    assert http.calls <= 2
    for item in items:
        _check(item)


@FUZZ
@given(st.lists(mutated_events().map(lambda e: {k: v for k, v in e.items() if k not in ("e", "s")}) | json_values, max_size=5) | json_values)
def test_rest_agg_trade_bodies(data: Any) -> None:
    for item in binance_client.fetch_agg_trades(_Http(data), "BTCUSDT", 1, 10**12):  # type: ignore[arg-type]
        _check(item)


@FUZZ
@given(json_values, st.dictionaries(st.sampled_from(["prices", "market_caps", "total_volumes"]), json_values))
def test_coingecko_bodies(doc: Any, chart: dict[str, Any]) -> None:
    for d in (doc, chart, {"data": chart}):
        for item in coingecko.market_chart_records(d, "bitcoin", origin="fuzz", now=NOW):
            _check(item)
        for item in coingecko.market_records(d, origin="fuzz", now=NOW):
            _check(item)


@FUZZ
@given(json_values, st.lists(st.dictionaries(st.sampled_from(["value", "value_classification", "timestamp", "time_until_update"]), json_values), max_size=4))
def test_fear_greed_bodies(doc: Any, entries: list[dict[str, Any]]) -> None:
    for d in (doc, entries, {"data": entries}):
        for item in feargreed.records(d, origin="fuzz", now=NOW):
            _check(item)


HEADERS = [
    b"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore",
    b"symbol,interval,timestamp,open,high,low,close,volume",
    b"unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount",
    b"date,open,high,low,close,volume,ticker",
    b"open,high,low,close,volume,quote_volume,trades,close_datetime",
    b"timestamp,open,high,low,close,volume",
]
cells = st.one_of(
    st.sampled_from(["1714521600000", "1714521600", "2024-05-01T00:00:00+02:00", "BTCUSDT", "1h",
                     "60000.5", "-1", "nan", "inf", "", "NULL", "1e400", '"', "BTC/USDT", "1M"]),
    st.text(alphabet=st.characters(blacklist_characters="\n\r,"), max_size=12),
)


@st.composite
def csv_files(draw: Any) -> bytes:
    header = draw(st.sampled_from(HEADERS))
    width = header.count(b",") + 1
    rows = draw(
        st.lists(st.lists(cells, min_size=max(1, width - 2), max_size=width + 1), max_size=6)
    )
    return header + b"\n" + b"\n".join(",".join(r).encode("utf-8", "replace") for r in rows)


names = st.sampled_from([
    "BTCUSDT-1h-2024-05.csv", "Binance_ETHUSDT_1h.csv", "SOLUSDT_1m.csv", "candles.csv",
    "btc-1d.json", "bitcoin.json", "fear_greed.json", "BNBUSDT-7x-2024.csv", "x.gz",
])


@FILES
@given(names, csv_files() | st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode()))
def test_recorded_files(name: str, data: bytes) -> None:
    path = Path(name)
    readers = {**binance.READERS, **coingecko.READERS, **feargreed.READERS}
    detected = [d(path, data[:4096]) for d in (binance.detect, coingecko.detect, feargreed.detect)]
    for layout in {d for d in detected if d}:
        for item in readers[layout](path, data):
            _check(item)
    for layout in (binance.LAYOUT_HEADER, binance.LAYOUT_VISION):  # whatever the detector says
        for item in readers[layout](path, data, now=NOW):
            _check(item)
