"""Subscriptions over graphql-transport-ws are pushed from Kafka; `after` resumes without a gap
or a duplicate at the seam between the lakehouse and the live stream."""

from __future__ import annotations

import time
from typing import Any

import pytest
from _api import Api, Ws, produce, trino

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]

TRADES = "subscription T($s: String!, $after: String) { trades(symbol: $s, after: $after) { cursor aggTradeId price replayed } }"


def agg(symbol: str, trade_id: int, price: float, t_ms: int) -> dict[str, Any]:
    return {"e": "aggTrade", "E": t_ms, "s": symbol, "a": trade_id, "p": str(price), "q": "1.0",
            "f": trade_id, "l": trade_id, "T": t_ms, "m": False}


def kline(symbol: str, open_ms: int, o: float, h: float, lo: float, c: float, final: bool) -> dict[str, Any]:
    return {"e": "kline", "E": open_ms + 59_000, "s": symbol,
            "k": {"t": open_ms, "T": open_ms + 59_999, "s": symbol, "i": "1m", "o": str(o), "h": str(h),
                  "l": str(lo), "c": str(c), "v": "2.0", "q": "0", "n": 3, "x": final}}


def _data(msg: dict[str, Any], field: str) -> dict[str, Any]:
    assert msg["type"] == "next", msg
    return msg["payload"]["data"][field]  # type: ignore[no-any-return]


def test_a_record_produced_to_kafka_reaches_a_subscriber(api: Api) -> None:
    ws = Ws(api, {"apiKey": api.key("reader")})
    ws.subscribe("t", TRADES, {"s": "ZZZUSDT"})
    time.sleep(1.0)
    now = int(time.time() * 1000)
    produce(api, "binance.aggtrade", [agg("ZZZUSDT", 1, 1.25, now)], "ZZZUSDT")
    got = _data(ws.next("t", 20), "trades")
    assert (got["aggTradeId"], got["price"], got["replayed"]) == ("1", 1.25, False)
    ws.close()


def test_a_resumed_subscription_delivers_every_missed_event_once(api: Api) -> None:
    (last_id,) = trino("SELECT max(agg_trade_id) FROM silver.trades WHERE symbol = 'NKNUSDT'")[0]
    from cryptolake.api.common import encode_cursor

    now = int(time.time() * 1000)
    ws = Ws(api, {"apiKey": api.key("reader")})
    # resume from just before the lakehouse's last trade: it is replayed from silver.trades
    ws.subscribe("a", TRADES, {"s": "NKNUSDT", "after": encode_cursor([last_id - 1])})
    first = _data(ws.next("a"), "trades")
    assert (int(first["aggTradeId"]), first["replayed"]) == (last_id, True)
    produce(api, "binance.aggtrade", [agg("NKNUSDT", last_id + 1, 0.5, now)], "NKNUSDT")
    live = _data(ws.next("a", 20), "trades")
    assert int(live["aggTradeId"]) == last_id + 1
    ws.close()
    # while disconnected: two trades, and one already seen arrives again
    produce(api, "binance.aggtrade", [agg("NKNUSDT", last_id + 2, 0.5, now + 1), agg("NKNUSDT", last_id + 3, 0.5, now + 2),
                                      agg("NKNUSDT", last_id + 1, 0.5, now)], "NKNUSDT")
    time.sleep(2)
    ws = Ws(api, {"apiKey": api.key("reader")})
    ws.subscribe("b", TRADES, {"s": "NKNUSDT", "after": live["cursor"]})
    produce(api, "binance.aggtrade", [agg("NKNUSDT", last_id + 3, 0.5, now + 2), agg("NKNUSDT", last_id + 4, 0.5, now + 3)],
            "NKNUSDT")
    ids = [int(_data(ws.next("b", 20), "trades")["aggTradeId"]) for _ in range(3)]
    assert ids == [last_id + 2, last_id + 3, last_id + 4]
    with pytest.raises(TimeoutError):
        ws.next("b", 2)  # nothing twice
    ws.close()


def test_the_candle_subscription_pushes_the_forming_candle_and_marks_it_final(api: Api) -> None:
    ws = Ws(api, {"apiKey": api.key("reader")})
    ws.subscribe("c", "subscription { candles(symbol: \"QQQUSDT\", interval: \"2m\") "
                      "{ openTime open high low close volume final } }")
    time.sleep(1.0)
    start = (int(time.time()) // 120) * 120 * 1000 - 120_000 * 5
    produce(api, "binance.kline_1m", [kline("QQQUSDT", start, 10, 12, 9, 11, False),
                                      kline("QQQUSDT", start, 10, 13, 9, 12, True),
                                      kline("QQQUSDT", start + 60_000, 12, 15, 11, 14, True)], "QQQUSDT")
    seen = [_data(ws.next("c", 20), "candles") for _ in range(3)]
    assert [s["final"] for s in seen] == [False, False, True]
    assert (seen[-1]["open"], seen[-1]["high"], seen[-1]["low"], seen[-1]["close"], seen[-1]["volume"]) == (
        10.0, 15.0, 9.0, 14.0, 4.0)
    ws.close()


def test_alerts_runs_and_predictions_are_pushed_from_their_topics(api: Api) -> None:
    from cryptolake.api.stream import produce_event
    from cryptolake.core import get_settings

    ws = Ws(api, {"Authorization": f"Bearer {api.key('reader')}"})
    ws.subscribe("a", "subscription { alerts { id kind payload } }")
    ws.subscribe("r", "subscription { pipelineRuns { id kind payload } }")
    ws.subscribe("p", 'subscription { predictions(symbol: "BTCUSDT") { id payload } }')
    time.sleep(1.0)
    settings = get_settings().model_copy(update={"kafka": get_settings().kafka.model_copy(
        update={"topic_prefix": api.prefix})})
    # what the api plugin's lifecycle hooks publish from the workers
    produce_event(settings, "run", {"id": "run-1", "step": "transform:silver.trades", "status": "started"})
    produce_event(settings, "alert", {"id": "gate-silver", "severity": "error", "failed": ["x:y"]})
    from cryptolake.api import stream

    stream._producer.flush(10)  # type: ignore[union-attr]
    produce(api, "ml.predictions", [{"prediction_id": "p1", "symbol": "BTCUSDT", "prob_up": 0.6,
                                     "model_name": "ensemble", "role": "champion"}], "BTCUSDT")
    run = _data(ws.next("r", 20), "pipelineRuns")
    assert run["id"] == "run-1" and run["payload"]["status"] == "started"
    alert = _data(ws.next("a", 20), "alerts")
    assert alert["id"] == "gate-silver" and alert["payload"]["failed"] == ["x:y"]
    pred = _data(ws.next("p", 20), "predictions")
    assert pred["id"] == "p1" and pred["payload"]["prob_up"] == 0.6
    ws.close()
