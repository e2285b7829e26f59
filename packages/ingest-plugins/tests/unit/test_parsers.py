"""Parsers of every layout: real recorded records in, typed rows or rejects with reasons out."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from cryptolake.ingest._records import Record, Reject
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.coingecko import parse as coingecko
from cryptolake.ingest.feargreed import parse as feargreed
from cryptolake.ingest.replay.config import SAMPLE_DIR


def sample(rel: str) -> tuple[Path, bytes]:
    path = SAMPLE_DIR / rel
    data = path.read_bytes()
    return path, gzip.decompress(data) if path.suffix == ".gz" else data


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Reject)]


def test_ohlcv_ticker_csv_keeps_the_exchange_strings_and_the_real_outage_gap() -> None:
    path, data = sample("binance/klines_1h/BTCUSDT_1h.csv.gz")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_TICKER
    recs, rejects = split(binance.read_ticker_csv(path, data))
    assert not rejects and len(recs) == 28 * 24 - 1  # 2023-03-24 13:00 is a real Binance outage
    first = recs[0].bronze_row()
    assert first["symbol"] == "BTCUSDT" and first["interval"] == "1h"
    assert first["open_time"] == datetime(2023, 3, 1, tzinfo=UTC)
    assert first["open"] == "23141.57000000"  # verbatim, not rounded through a float
    assert first["quote_volume"] is None and first["trade_count"] is None  # absent, not defaulted
    times = {r.bronze_row()["open_time"] for r in recs}
    assert datetime(2023, 3, 24, 13, tzinfo=UTC) not in times
    assert recs[0].topic == "binance.kline_1h"


def test_vision_12col_matches_the_ticker_csv_on_the_same_hours() -> None:
    path, data = sample("binance/klines_1h_vision_12col/BTCUSDT-1h-2023-03.csv.gz")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_VISION
    vision, _ = split(binance.read_vision(path, data))
    p2, d2 = sample("binance/klines_1h/BTCUSDT_1h.csv.gz")
    ticker, _ = split(binance.read_ticker_csv(p2, d2))
    by_time = {r.bronze_row()["open_time"]: r.bronze_row() for r in ticker}
    assert len(vision) == len(ticker)
    for r in vision:
        t = by_time[r.bronze_row()["open_time"]]
        assert (r.bronze_row()["open"], r.bronze_row()["close"], r.bronze_row()["volume"]) == (
            t["open"],
            t["close"],
            t["volume"],
        )
        assert (
            r.bronze_row()["trade_count"] is not None
            and r.bronze_row()["taker_buy_quote_volume"] is not None
        )


def test_cdd_messy_export_seconds_and_ms_twelve_hour_dates_duplicates_descending() -> None:
    path, data = sample("binance/klines_1h_cryptodatadownload/Binance_BTCUSDT_1h.csv")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_CDD
    recs, rejects = split(binance.read_cdd(path, data))
    assert not rejects and len(recs) == 101
    # the legacy rows "1605855600.0,2020-11-20 07-AM" are epoch seconds -> the same hour as ms rows
    legacy = [r for r in recs if r.bronze_row()["trade_count"] is None]
    modern = [r for r in recs if r.bronze_row()["trade_count"] is not None]
    assert legacy and modern
    assert {r.bronze_row()["open_time"] for r in legacy} & {
        r.bronze_row()["open_time"] for r in modern
    }
    assert all(r.bronze_row()["symbol"] == "BTCUSDT" for r in recs)
    seam = [
        r for r in legacy if r.bronze_row()["open_time"] == datetime(2020, 11, 20, 7, tzinfo=UTC)
    ]
    assert seam and seam[0].bronze_row()["close"] == "18143.03"
    # descending in the file; records carry event time so replay can order them
    assert recs[0].event_ms > recs[-1].event_ms


def test_cdd_legacy_rows_take_the_vectorised_path_with_the_row_wise_result(monkeypatch) -> None:
    """``.0`` epoch seconds and NULL trade counts stay on the fast path (the row-wise parser is
    only for rows the vector checks refuse), with byte-identical records, whatever the column
    order the header gives."""
    from cryptolake.ingest.binance import csv_layouts

    path, data = sample("binance/klines_1h_cryptodatadownload/Binance_BTCUSDT_1h.csv")
    lines = data.decode().splitlines()
    order = [9, 2, 0, 6, 5, 4, 3, 8, 7, 1]  # the same file with its columns shuffled
    shuffled = "\n".join(",".join(line.split(",")[i] for i in order) for line in lines).encode()
    for blob in (data, shuffled):
        row_wise = list(binance.read_cdd(path, blob, now=2_000_000_000_000, vector=False))
        with monkeypatch.context() as m:
            def refused(*_: object) -> None:
                raise AssertionError("a row left the vectorised path")

            m.setattr(csv_layouts, "_row", refused)
            fast = list(binance.read_cdd(path, blob, now=2_000_000_000_000))
        assert fast == row_wise and len(fast) == 101
        records = [r for r in fast if isinstance(r, Record)]
        assert len(records) == len(fast)
        assert any(b'"n":' not in r.payload for r in records)  # the NULL counts: no "n"
        assert any(b'"n":' in r.payload for r in records)


def test_cdd_rejects_a_non_finite_volume_with_the_field_named() -> None:
    line = b"1597046400000,2020-08-10 08:00:00,ETH/USDT,390.5,391.0,389.9,390.2,1000.0,nan,5000"
    header = b"unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount\n"
    recs, rejects = split(binance.read_cdd(Path("Binance_ETHUSDT_1h.csv"), header + line))
    assert not recs and len(rejects) == 1
    assert "k.q" in rejects[0].reason and "finite" in rejects[0].reason
    assert rejects[0].raw == line and rejects[0].origin == "Binance_ETHUSDT_1h.csv:2"


def test_close_datetime_csv_derives_open_time_from_the_local_close_time() -> None:
    path, data = sample("binance/klines_1m/BTCUSDT_1m.csv.gz")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_CLOSE_DT
    recs, rejects = split(binance.read_close_datetime_csv(path, data))
    assert not rejects and len(recs) == 2880
    assert recs[0].bronze_row()["open_time"] == datetime(2024, 11, 30, 23, 0, tzinfo=UTC)
    assert recs[0].bronze_row()["trade_count"] == 3577
    assert all(b.event_ms - a.event_ms == 60_000 for a, b in pairwise(recs))


def test_rest_json_keeps_all_twelve_fields() -> None:
    path, data = sample("binance/klines_1d_rest_json/btc-1d.json")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_REST_JSON
    recs, rejects = split(binance.read_rest_json(path, data))
    assert not rejects and len(recs) == 28
    raw = json.loads(data)[0]
    event = json.loads(recs[0].payload)
    assert [
        event["k"][f] for f in ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q", "B")
    ] == raw
    assert recs[0].bronze_row()["symbol"] == "BTCUSDT" and recs[0].bronze_row()["interval"] == "1d"


def test_websocket_capture_keeps_the_exchange_bytes_and_skips_other_streams() -> None:
    path, data = sample("websocket/cryptofeed_binance_2021-10-11/BINANCE.ws.1.0")
    assert binance.detect(path, data[:4096]) == binance.LAYOUT_WS_CAPTURE
    recs, rejects = split(binance.read_ws_capture(path, data))
    assert not rejects
    assert sorted(r.feed for r in recs) == ["binance_agg_trades"] * 2 + ["binance_klines"] * 2
    trade = next(r for r in recs if r.key == "NKNUSDT" and r.feed == "binance_agg_trades")
    assert trade.payload == (
        b'{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000",'
        b'"q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}'
    )
    assert (
        trade.bronze_row()["agg_trade_id"] == 15683430
        and trade.bronze_row()["is_best_match"] is True
    )
    kline = next(r for r in recs if r.key == "NKNUSDT" and r.feed == "binance_klines")
    assert (
        kline.bronze_row()["is_closed"] is False
        and kline.bronze_row()["first_trade_id"] == 19862761
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            b'{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"0.0","q":"1","T":1633998523963}',
            "'p' must be positive",
        ),
        (
            b'{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"-5","q":"1","T":1633998523963}',
            "'p' must be positive",
        ),
        (b'{"e":"aggTrade","s":"BTCUSDT","a":1,"q":"1","T":1633998523963}', "missing field 'p'"),
        (
            b'{"e":"aggTrade","s":"BTCUSDT","a":"x1","p":"1","q":"1","T":1633998523963}',
            "'a' must be an integer",
        ),
        (
            b'{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"1","T":9999999999999}',
            "in the future",
        ),
        (
            b'{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"abc","q":"1","T":1633998523963}',
            "'p' must be a number",
        ),
        (
            b'{"e":"kline","s":"BTCUSDT","k":{"t":1633998480000,"i":"1m","o":"1","h":"0.5","l":"1","c":"1","v":"1"}}',
            "below low",
        ),
        (b'{"e":"trade","s":"BTCUSDT"}', "unknown event type"),
        (b'{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1"', "unparsable JSON"),
        (b"[1,2,3]", "unknown event type"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    item = binance.parse_event_bytes(payload, layout="binance_ws", origin="btcusdt@aggTrade")
    assert isinstance(item, Reject), item
    assert reason in item.reason
    assert item.raw == payload and item.origin == "btcusdt@aggTrade"


def test_coingecko_market_chart_daily_and_a_null_market_cap_kept_as_null() -> None:
    path, data = sample("coingecko/market_chart_5y_daily/bitcoin.json")
    assert coingecko.detect(path, data[:4096]) == coingecko.LAYOUT_CHART
    recs, rejects = split(coingecko.read_market_chart(path, data))
    assert not rejects and len(recs) == 28
    assert {r.bronze_row()["granularity"] for r in recs} == {"daily"}
    doc = {
        "prices": [[1680307200000, 28000.5]],
        "market_caps": [[1680307200000, None]],
        "total_volumes": [[1680307200000, 1.5e10]],
    }
    (rec,) = coingecko.market_chart_records(doc, "bitcoin", origin="t")
    assert not isinstance(rec, Reject), rec
    assert rec.bronze_row()["market_cap"] is None and rec.bronze_row()["price"] == 28000.5


def test_coingecko_hourly_chart_is_detected_as_hourly() -> None:
    path, data = sample("coingecko/cryptosphere_2023-10/bitcoin_chart.json")
    recs, _ = split(coingecko.read_market_chart(path, data))
    assert {r.bronze_row()["granularity"] for r in recs} == {"hourly"} and recs[0].key == "bitcoin"


def test_coingecko_bad_points_are_rejected_not_defaulted() -> None:
    doc = {
        "prices": [[1680307200000, -1.0], [1680393600000, "x"], ["t", 1.0], [1680480000000, 5.0]],
        "market_caps": [],
        "total_volumes": [],
    }
    recs, rejects = split(coingecko.market_chart_records(doc, "bitcoin", origin="u"))
    assert len(recs) == 1 and recs[0].bronze_row()["price"] == 5.0
    reasons = " | ".join(r.reason for r in rejects)
    assert "must be positive" in reasons and "must be a number" in reasons
    assert "expected [epoch ms, value]" in reasons


def test_coingecko_markets_wrapped_file() -> None:
    path, data = sample("coingecko/cryptosphere_2023-10/coins.json")
    assert coingecko.detect(path, data[:4096]) == coingecko.LAYOUT_MARKETS
    recs, rejects = split(coingecko.read_markets(path, data))
    assert not rejects and len(recs) == 100
    btc = next(r for r in recs if r.key == "bitcoin")
    assert btc.bronze_row()["current_price"] == 27887 and btc.bronze_row()["market_cap_rank"] == 1


def test_fear_greed_strings_become_typed_and_bad_values_are_rejected() -> None:
    path, data = sample("feargreed/fear_greed.json")
    assert feargreed.detect(path, data[:4096]) == feargreed.LAYOUT
    recs, rejects = split(feargreed.read(path, data))
    assert not rejects and len(recs) == 28
    assert all(isinstance(r.bronze_row()["value"], int) for r in recs)
    doc = {
        "data": [
            {"value": "101", "value_classification": "Greed", "timestamp": "1680307200"},
            {"value": "50", "value_classification": "Meh", "timestamp": "1680307200"},
            {"value_classification": "Fear", "timestamp": "1680307200"},
        ]
    }
    recs, rejects = split(feargreed.records(doc, origin="t"))
    assert not recs
    assert [r.reason for r in rejects] == [
        "field 'value' must be 0..100, got 101",
        "field 'value_classification' is unknown: 'Meh'",
        "missing field 'value'",
    ]


def test_unknown_files_are_not_claimed_by_any_builtin_layout() -> None:
    head = b'{"data": {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin"'
    p = Path("bitcoin.json")
    assert binance.detect(p, head) is None
    assert coingecko.detect(p, head) is None
    assert feargreed.detect(p, head) is None


@pytest.mark.parametrize(
    ("rel", "reader"),
    [
        ("binance/klines_1h/BTCUSDT_1h.csv.gz", binance.read_ticker_csv),
        ("binance/klines_1h/DOGEUSDT_1h.csv.gz", binance.read_ticker_csv),
        ("binance/klines_1h_vision_12col/BTCUSDT-1h-2023-03.csv.gz", binance.read_vision),
        ("binance/klines_1m/BTCUSDT_1m.csv.gz", binance.read_close_datetime_csv),
    ],
)
def test_vectorised_and_row_wise_parsers_agree_byte_for_byte(rel: str, reader) -> None:
    path, data = sample(rel)
    # spoil a few rows so both paths must also agree on rejects
    lines = data.splitlines(keepends=True)
    lines[5] = lines[5].replace(b",", b",-", 2)  # a negative price: refused by the vector checks
    negative = b"".join(lines)
    lines[9] = b",".join(lines[9].split(b",")[:3]) + b"\n"  # too few fields: whole file row-wise
    short = b"".join(lines)
    for blob in (data, negative, short):
        fast = list(reader(path, blob))
        slow = list(reader(path, blob, vector=False))
        assert [type(i) for i in fast] == [type(i) for i in slow]
        assert [
            (i.payload, i.origin, i.event_ms, i.topic) for i in fast if isinstance(i, Record)
        ] == [(i.payload, i.origin, i.event_ms, i.topic) for i in slow if isinstance(i, Record)]
        assert [(i.reason, i.origin, i.raw) for i in fast if isinstance(i, Reject)] == [
            (i.reason, i.origin, i.raw) for i in slow if isinstance(i, Reject)
        ]
    window = (1678000000000, 1679000000000)
    assert [i.payload for i in reader(path, data, window=window)] == [
        i.payload for i in reader(path, data, window=window, vector=False)
    ]
