"""The real source code against local servers speaking Binance / CoinGecko / Alternative.me."""

from __future__ import annotations

import pytest
from standins import BinanceStandin, CoinGeckoStandin, Fault, Session
from standins.binance import FIRST_AGG_ID

from cryptolake.core import TransientError
from cryptolake.ingest._records import Record, Reject
from cryptolake.ingest.binance.client import LiveStream, fetch_agg_trades, fetch_klines
from cryptolake.ingest.binance.config import LiveConfig
from cryptolake.ingest.http import HttpClient


def test_websocket_disconnect_and_id_gap_are_backfilled_exactly_once() -> None:
    # 30 real 1m bars -> 120 aggTrades + 30 closed klines = 150 frames; the server drops the
    # connection after frame 40 and resumes at frame 52: aggTrades 32..41 and klines 8..9 are lost
    with BinanceStandin([Session(0, 40), Session(52)]) as server:
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            max_messages=40 + 150 - 52,
            max_seconds=30,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.2,
        )
        out: list[Record] = []
        rejects: list[Reject] = []
        stream = LiveStream(cfg, emit=out.append, reject=rejects.append)
        stats = stream.run()
    assert not rejects
    ids = [(r.row or {})["agg_trade_id"] for r in out if r.feed == "binance_agg_trades"]
    assert ids == list(range(FIRST_AGG_ID, FIRST_AGG_ID + 120))  # all, once, in order
    klines = [r.event_ms for r in out if r.feed == "binance_klines"]
    assert len(klines) == 30 and len(set(klines)) == 30 and klines == sorted(klines)
    assert stats.connections == 2 and stats.reconnects == 1
    assert stats.gaps_found == 2 and stats.gaps_filled == 2 and stats.backfilled == 12
    assert {(g["stream"], g["first"], g["last"]) for g in stats.gap_log} >= {
        ("aggTrade", FIRST_AGG_ID + 32, FIRST_AGG_ID + 41)
    }
    assert server.paths[0].startswith("/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m")
    backfilled = [r for r in out if r.layout == "binance_rest"]
    assert len(backfilled) == 12 and all(r.topic for r in backfilled)


def test_duplicate_frames_after_a_reconnect_are_dropped() -> None:
    with BinanceStandin([Session(0, 30), Session(20)]) as server:
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            max_messages=150,
            max_seconds=30,
            reconnect_initial_s=0.05,
        )
        out: list[Record] = []
        stats = LiveStream(cfg, emit=out.append, reject=lambda r: None).run()
    ids = [(r.row or {})["agg_trade_id"] for r in out if r.feed == "binance_agg_trades"]
    assert ids == list(range(FIRST_AGG_ID, FIRST_AGG_ID + 120))
    assert stats.duplicates == 10 and stats.gaps_found == 0


def test_rest_backfill_survives_429_retry_after_5xx_and_a_truncated_body() -> None:
    sleeps: list[float] = []
    with BinanceStandin() as server:
        server.rest.fail(
            "/api/v3/aggTrades",
            Fault(429, retry_after=0.25),
            Fault(503),
            Fault("truncated"),
            Fault(418, retry_after=0.5),
        )
        http = HttpClient(server.rest_url, sleep=sleeps.append, backoff_base_s=0.01)
        got = list(fetch_agg_trades(http, "BTCUSDT", FIRST_AGG_ID + 5, FIRST_AGG_ID + 14))
    assert [(r.row or {})["agg_trade_id"] for r in got if isinstance(r, Record)] == list(range(FIRST_AGG_ID + 5, FIRST_AGG_ID + 15))
    assert 0.25 in sleeps and 0.5 in sleeps  # Retry-After honoured
    assert http.stats["rate_limited"] == 2 and http.stats["server_errors"] == 1
    assert http.stats["retries"] == 4


def test_a_malformed_body_is_dead_lettered_and_ingestion_goes_on() -> None:
    with BinanceStandin() as server:
        server.rest.fail("/api/v3/klines", *[Fault("malformed")] * 3)
        http = HttpClient(server.rest_url, sleep=lambda s: None, max_retries=2)
        items = list(fetch_klines(http, "BTCUSDT", "1m", 0, 2**50))
        assert len(items) == 1 and isinstance(items[0], Reject)
        assert "not JSON" in items[0].reason and b"<!-- cut -->" in items[0].raw
        # the next request is answered normally
        again = list(fetch_klines(http, "BTCUSDT", "1m", 0, 2**50))
    assert len(again) == 30 and all(isinstance(i, Record) for i in again)


def test_persistent_5xx_raises_a_transient_error_naming_the_url() -> None:
    with CoinGeckoStandin() as server:
        server.fail("/api/v3/coins/markets", *[Fault(500)] * 4)
        http = HttpClient(server.url + "/api/v3", sleep=lambda s: None, max_retries=3)
        with pytest.raises(TransientError, match="coins/markets failed after 3 retries: HTTP 500"):
            http.get_json("/coins/markets", {"vs_currency": "usd"})


def test_request_budget_waits_instead_of_exceeding_it() -> None:
    sleeps: list[float] = []
    with CoinGeckoStandin() as server:
        http = HttpClient(server.url + "/api/v3", requests_per_minute=3, sleep=sleeps.append)
        for _ in range(4):
            http.get_json("/coins/markets", {"vs_currency": "usd"})
    assert len(sleeps) == 1 and 59 < sleeps[0] <= 60.1


def test_proactive_reconnect_before_the_24h_cut_loses_and_doubles_nothing() -> None:
    # the server replays the whole tape on the second connection: every frame is a duplicate
    with BinanceStandin([Session(0), Session(0)]) as server:
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            reconnect_every_s=1.0,
            max_seconds=2.5,
            reconnect_initial_s=0.01,
            reconnect_max_s=0.02,
        )
        out: list[Record] = []
        stats = LiveStream(cfg, emit=out.append, reject=lambda r: None).run()
    assert stats.connections >= 2  # a third, idle connection may open before max_seconds
    assert stats.records == 150 and stats.duplicates == 150 and stats.gaps_found == 0
    assert len({(r.feed, r.key, r.event_ms, r.payload) for r in out}) == 150


def test_garbage_frames_are_dead_lettered_and_the_stream_goes_on() -> None:
    from standins.binance import Tape

    tape = Tape().build()
    tape.frames.insert(3, b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":')
    tape.frames.insert(
        7,
        b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":"BTCUSDT",'
        b'"a":1,"p":"-1","q":"1","T":1733007600000}}',
    )
    tape.frames.insert(9, b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate"}}')
    with BinanceStandin([Session(0)], tape=tape) as server:
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            max_messages=150,
            max_seconds=20,
        )
        out: list[Record] = []
        rejects: list[Reject] = []
        stats = LiveStream(cfg, emit=out.append, reject=rejects.append).run()
    assert len(out) == 150 and stats.skipped_streams == 1
    assert [r.reason.split(":")[0] for r in rejects] == [
        "unparsable websocket frame",
        "field 'p' must be positive, got '-1'",
    ]


def test_binance_request_weight_header_makes_the_client_wait_for_the_next_minute() -> None:
    sleeps: list[float] = []
    with BinanceStandin() as server:
        server.rest.extra_headers = {"X-MBX-USED-WEIGHT-1M": "5998"}  # the server's own count
        http = HttpClient(server.rest_url, weight_per_minute=6000, sleep=sleeps.append)
        list(fetch_agg_trades(http, "BTCUSDT", FIRST_AGG_ID, FIRST_AGG_ID + 1))
        assert not sleeps  # weight 4 fitted before the first answer told us the count
        list(fetch_agg_trades(http, "BTCUSDT", FIRST_AGG_ID, FIRST_AGG_ID + 1))
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 60.1


def test_a_rest_outage_during_a_backfill_does_not_end_the_stream() -> None:
    # the gap after the first reconnect cannot be backfilled (REST answers 503 to every retry):
    # the loop reconnects, the next connection shows the gap again, and then REST is back
    with BinanceStandin([Session(0, 40), Session(52, 60), Session(60)]) as server:
        server.rest.fail("/api/v3/aggTrades", *[Fault(503)] * 2)
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            max_messages=40 + 150 - 60,
            max_seconds=30,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.2,
            max_retries=1,
            backoff_base_s=0.01,
        )
        out: list[Record] = []
        stream = LiveStream(cfg, emit=out.append, reject=lambda r: None)
        stats = stream.run()  # before the fix: TransientError escaped the loop here
    ids = [(r.row or {})["agg_trade_id"] for r in out if r.feed == "binance_agg_trades"]
    assert ids == list(range(FIRST_AGG_ID, FIRST_AGG_ID + 120))  # all, once, in order
    klines = [r.event_ms for r in out if r.feed == "binance_klines"]
    assert len(klines) == 30 == len(set(klines))
    assert stats.rest_outages == 1 and stats.connections == 3


def test_a_gap_beyond_the_backfill_limit_raises_an_alert_and_is_recorded() -> None:
    alerts: list[tuple[str, str]] = []
    with BinanceStandin([Session(0, 40), Session(52)]) as server:
        cfg = LiveConfig(
            symbols=["BTCUSDT"],
            ws_url=server.ws_url,
            rest_url=server.rest_url,
            max_messages=40 + 150 - 52,
            max_seconds=30,
            reconnect_initial_s=0.05,
            max_backfill_trades=5,
            max_backfill_minutes=1,
        )
        stats = LiveStream(
            cfg, emit=lambda r: None, reject=lambda r: None,
            alert=lambda subject, message: alerts.append((subject, message)),
        ).run()
    assert stats.gaps_found == 2 and stats.gaps_unfilled == 2 and stats.backfilled == 0
    assert sorted(s for s, _ in alerts) == ["BTCUSDT aggTrade", "BTCUSDT kline_1m"]
    kline_msg = dict(alerts)["BTCUSDT kline_1m"]
    assert "exceeds max_backfill_minutes=1" in kline_msg and "binance.klines --from" in kline_msg
    assert all("unfilled" in g for g in stats.gap_log)
