"""Unit tests of the API's pure parts: intervals, cursors, keyset SQL, cost, forming candles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from graphql import parse

from cryptolake.api.common import decode_cursor, encode_cursor
from cryptolake.api.errors import BadCursorError, BadIntervalError
from cryptolake.api.limits import estimate
from cryptolake.api.repositories import keyset
from cryptolake.api.stream import parse as parse_record
from cryptolake.api.subscriptions import _Forming
from cryptolake.api.timeframes import parse_interval


@pytest.mark.parametrize(("text", "seconds", "stored", "base"), [
    ("1m", 60, True, 60), ("5m", 300, False, 60), ("15m", 900, False, 60), ("1h", 3600, True, 3600),
    ("4h", 14400, True, 14400), ("1d", 86400, True, 86400), ("1w", 604800, False, 3600),
    ("90m", 5400, False, 60), ("2h", 7200, False, 3600), ("24h", 86400, True, 86400),
])
def test_intervals_are_read_from_the_right_timeframe(text: str, seconds: int, stored: bool, base: int) -> None:
    iv = parse_interval(text)
    assert (iv.seconds, iv.stored, iv.base_seconds) == (seconds, stored, base)


@pytest.mark.parametrize("bad", ["", "5", "m", "30s", "1y", "0m", "-1h", "1h; DROP TABLE x", "53w"])
def test_bad_intervals_say_what_to_write(bad: str) -> None:
    with pytest.raises(BadIntervalError) as err:
        parse_interval(bad)
    assert (err.value.extensions or {})["code"] == "BAD_INTERVAL"


def test_weeks_start_on_monday_and_other_buckets_on_the_epoch() -> None:
    week = parse_interval("1w")
    t = int(datetime(2024, 11, 28, 15, 0, tzinfo=UTC).timestamp())  # a Thursday
    assert datetime.fromtimestamp(week.bucket_start(t), UTC) == datetime(2024, 11, 25, tzinfo=UTC)
    five = parse_interval("5m")
    assert five.bucket_start(t + 7 * 60 + 3) == t + 5 * 60


def test_cursors_round_trip_and_garbage_is_a_typed_error() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert decode_cursor(encode_cursor([when, "BTCUSDT"]), (datetime, str)) == [when, "BTCUSDT"]
    for bad in ("not-a-cursor", encode_cursor([1, 2]), "' OR 1=1 --"):
        with pytest.raises(BadCursorError):
            decode_cursor(bad, (int,))


def test_keyset_spells_out_a_row_comparison_with_parameters() -> None:
    sql, params = keyset(["a", "b"], [1, "x"], False)
    assert sql == "((a > ?) OR (a = ? AND b > ?))" and params == [1, 1, "x"]
    assert keyset(["a"], [5], True) == ("((a < ?))", [5])
    assert keyset(["a"], None, False) == ("", [])


def test_cost_multiplies_rows_by_fields_and_reads_variables() -> None:
    doc = parse("query Q($n: Int) { candles(symbol: \"X\", first: $n) { nodes { open close } } coins { symbol } }")
    small = estimate(doc, None, {"n": 10})
    big = estimate(doc, None, {"n": 1000})
    assert big - small == (1000 - 10) * 3  # nodes + open + close per row
    nested = parse("{ pipelineRuns(first: 100) { nodes { runId steps { step status } } } }")
    assert estimate(nested, None, {}) > 100 * 30 * 2


def test_fragments_count_once_per_use_and_cannot_loop() -> None:
    doc = parse("{ coins { ...F } } fragment F on Coin { symbol coinId }")
    assert estimate(doc, None, {}) == 1 + 50 * 2


def test_kafka_records_are_parsed_and_foreign_layouts_skipped() -> None:
    trade = {"e": "aggTrade", "E": 1, "s": "btcusdt", "a": 7, "p": "10.5", "q": "2", "f": 1, "l": 2,
             "T": 1_700_000_000_000, "m": True}
    [(channel, key, row)] = parse_record("binance.aggtrade", json.dumps({"stream": "x", "data": trade}).encode())
    assert channel == ("trades", "BTCUSDT") and key == 7 and row["price"] == 10.5
    assert parse_record("binance.kline_1m", b"BTCUSDT,2024-01-01,1,2,3") == []
    assert parse_record("binance.aggtrade", b"\xff") == []


def test_a_forming_candle_folds_minutes_and_closes_with_the_last_final_kline() -> None:
    f = _Forming(300, 0)
    bar = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 1.0, "trade_count": 1, "final": True}
    pushes = [p for m in range(5) for p in f.add(1_700_000_100 - 1_700_000_100 % 300 + 60 * m, dict(bar), False)]
    assert [final for _, _, final in pushes] == [False, False, False, False, True]
    assert pushes[-1][1]["volume"] == 5.0 and pushes[-1][1]["high"] == 2.0
    # a trade in a later bucket closes nothing twice and opens the next candle
    nxt = f.add(pushes[-1][0] + 300, {"open": 3.0, "high": 3.0, "low": 3.0, "close": 3.0, "volume": 1.0,
                                      "trade_count": 1}, True)
    assert nxt == [(pushes[-1][0] + 300, {"open": 3.0, "high": 3.0, "low": 3.0, "close": 3.0,
                                          "volume": 1.0, "trade_count": 1}, False)]


def test_as_of_before_a_tables_first_commit_is_its_own_error() -> None:
    import asyncio
    from typing import Any

    from cryptolake.api.errors import BeforeFirstCommitError, UnknownSnapshotError
    from cryptolake.api.lakehouse import AsOfSpec, Reader, SnapshotLog

    first = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp() * 1000)
    log = SnapshotLog(current=2, snapshots=((1, first), (2, first + 5000)),
                      history=((1, first), (2, first + 5000)))

    class Lake:
        async def locations(self) -> dict[str, str]:
            return {"ops.alerts": "s3://w/ops/alerts/metadata/1.json"}

        async def snapshot_log(self, location: str) -> SnapshotLog:
            return log

    def at(when: datetime | None = None, sid: int | None = None) -> int | None:
        lake: Any = Lake()
        reader = Reader(lake, AsOfSpec(snapshot_id=sid, timestamp=when), "ops.alerts")
        return asyncio.run(reader.snapshot("ops.alerts"))

    assert at(datetime(2026, 12, 1, 12, 0, 3, tzinfo=UTC)) == 1
    assert at() == 2
    with pytest.raises(BeforeFirstCommitError, match="first commit was at 2026-12-01T12:00:00"):
        at(datetime(2026, 12, 1, 11, 59, tzinfo=UTC))  # the event lists answer it empty
    with pytest.raises(UnknownSnapshotError) as unknown:  # an id it never had stays an error
        at(sid=99)
    assert not isinstance(unknown.value, BeforeFirstCommitError)
