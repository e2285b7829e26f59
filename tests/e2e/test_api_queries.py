"""The GraphQL API answers every field on the bundled sample; values are checked against figures
computed independently: from the recorded files, or from Trino directly at the snapshot the
answer says it read (so a concurrent commit cannot make the comparison lie)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _api import Api, snapshot_of, trino
from _expected import SAMPLE, expected, hourly_klines, minute_klines

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]

CANDLES = """query C($s: String!, $i: String!, $n: Int, $after: String, $from: DateTime, $to: DateTime) {
  candles(symbol: $s, interval: $i, first: $n, after: $after, from: $from, to: $to) {
    edges { cursor node { openTime open high low close volume barCount isComplete rolledUp } }
    pageInfo { hasNextPage endCursor } } }"""


def all_candles(api: Api, symbol: str, interval: str, **window: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out, after, ext = [], None, {}
    while True:
        body = api.gql(CANDLES, {"s": symbol, "i": interval, "n": 200, "after": after, **window})
        assert not body.get("errors"), body["errors"]
        page = body["data"]["candles"]
        out += [e["node"] for e in page["edges"]]
        ext = body["extensions"]
        if not page["pageInfo"]["hasNextPage"]:
            return out, ext
        after = page["pageInfo"]["endCursor"]


def roll_up(rows: list[tuple[Any, ...]], seconds: int, origin: int = 0) -> dict[int, dict[str, float]]:
    """Independent roll-up in Python of (t, open, high, low, close, volume) rows."""
    buckets: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        t = int(row[0].timestamp())
        buckets[(t - origin) // seconds * seconds + origin].append(row)
    out = {}
    for b, rs in buckets.items():
        rs.sort(key=lambda r: r[0])
        out[b] = {"open": rs[0][1], "high": max(r[2] for r in rs), "low": min(r[3] for r in rs),
                  "close": rs[-1][4], "volume": sum(r[5] for r in rs), "bars": len(rs)}
    return out


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _same(api_rows: list[dict[str, Any]], want: dict[int, dict[str, float]]) -> None:
    got = {_ts(c["openTime"]): c for c in api_rows}
    assert sorted(got) == sorted(want)
    for b, w in want.items():
        c = got[b]
        assert (c["open"], c["high"], c["low"], c["close"], c["barCount"]) == (
            w["open"], w["high"], w["low"], w["close"], w["bars"]), b
        assert c["volume"] == pytest.approx(w["volume"], rel=1e-9)


def test_coins_are_the_recorded_symbols(api: Api) -> None:
    body = api.gql("{ coins { symbol quality { table status } } }")
    symbols = {c["symbol"] for c in body["data"]["coins"]}
    recorded = {s for s, _ in hourly_klines() | minute_klines()}
    assert len(symbols) == expected().symbols and symbols == recorded
    assert {c["quality"]["table"] for c in body["data"]["coins"]} == {"gold.dim_coins"}
    assert "gold.dim_coins" in body["extensions"]["snapshots"]


def test_stored_hourly_candles_match_the_recorded_hours_and_trino(api: Api) -> None:
    rows, ext = all_candles(api, "BTCUSDT", "1h")
    hours = {t for s, t in hourly_klines() | {(s, t.replace(minute=0)) for s, t in minute_klines()}
             if s == "BTCUSDT"}
    assert {datetime.fromisoformat(c["openTime"]) for c in rows} == hours
    sid = snapshot_of({"extensions": ext}, "gold.market_ohlc")
    direct = trino(f"SELECT bucket_start, open, high, low, close, volume FROM gold.market_ohlc "
                   f"FOR VERSION AS OF {sid} WHERE symbol = ? AND timeframe = '1h' ORDER BY 1", ["BTCUSDT"])
    assert [(_ts(c["openTime"]), c["close"], c["volume"]) for c in rows] == [
        (int(r[0].timestamp()), r[4], r[5]) for r in direct]
    assert not any(c["rolledUp"] for c in rows)


def test_a_5m_roll_up_equals_an_independent_roll_up_of_the_1m_candles(api: Api) -> None:
    rows, ext = all_candles(api, "BTCUSDT", "5m")
    sid = snapshot_of({"extensions": ext}, "silver.ohlcv_1m")
    base = trino(f"SELECT open_time, open, high, low, close, volume FROM silver.ohlcv_1m "
                 f"FOR VERSION AS OF {sid} WHERE symbol = ?", ["BTCUSDT"])
    assert len(base) > 100
    _same(rows, roll_up(base, 300))
    assert all(c["rolledUp"] for c in rows)


def test_a_1w_roll_up_starts_on_mondays_and_equals_an_independent_roll_up(api: Api) -> None:
    rows, ext = all_candles(api, "ETHUSDT", "1w")
    sid = snapshot_of({"extensions": ext}, "gold.market_ohlc")
    base = trino(f"SELECT bucket_start, open, high, low, close, volume FROM gold.market_ohlc "
                 f"FOR VERSION AS OF {sid} WHERE symbol = ? AND timeframe = '1h'", ["ETHUSDT"])
    _same(rows, roll_up(base, 7 * 86400, origin=4 * 86400))
    assert {datetime.fromisoformat(c["openTime"]).weekday() for c in rows} == {0}
    assert any(c["isComplete"] for c in rows) and all(c["barCount"] <= 168 for c in rows)


def test_an_8h_roll_up_equals_rolling_the_stored_4h_candles(api: Api) -> None:
    rows, ext = all_candles(api, "BTCUSDT", "8h")
    sid = snapshot_of({"extensions": ext}, "gold.market_ohlc")
    four = trino(f"SELECT bucket_start, open, high, low, close, volume, bar_count FROM gold.market_ohlc "
                 f"FOR VERSION AS OF {sid} WHERE symbol = ? AND timeframe = '4h'", ["BTCUSDT"])
    want = roll_up([r[:6] for r in four], 8 * 3600)
    bars: dict[int, int] = defaultdict(int)
    for r in four:
        bars[int(r[0].timestamp()) // 28800 * 28800] += r[6]
    for b in want:
        want[b]["bars"] = bars[b]
    _same(rows, want)


def test_pages_join_without_gap_or_duplicate_and_windows_keep_candles_whole(api: Api) -> None:
    whole, _ = all_candles(api, "BTCUSDT", "15m")
    paged, after = [], None
    for _ in range(4):
        page = api.data(CANDLES, {"s": "BTCUSDT", "i": "15m", "n": 7, "after": after})["candles"]
        paged += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert paged == whole[:28]
    start = datetime.fromisoformat(whole[3]["openTime"]) + timedelta(minutes=7)  # inside a bucket
    end = datetime.fromisoformat(whole[9]["openTime"])
    window, _ = all_candles(api, "BTCUSDT", "15m", **{"from": start.isoformat(), "to": end.isoformat()})
    assert window == whole[3:9]


def test_fear_greed_matches_the_recorded_file(api: Api) -> None:
    data = json.loads((SAMPLE / "feargreed/fear_greed.json").read_text())["data"]
    want = {datetime.fromtimestamp(int(d["timestamp"]), UTC).date().isoformat(): int(d["value"]) for d in data}
    got = api.data("{ fearGreed(first: 200) { nodes { date value classification } } }")["fearGreed"]["nodes"]
    assert {n["date"]: n["value"] for n in got} == want


def test_trades_are_the_recorded_aggregate_trades(api: Api) -> None:
    from _expected import agg_trades

    recorded = agg_trades()
    got = set()
    for symbol in {s for s, _ in recorded}:
        nodes = api.data("query T($s: String!) { trades(symbol: $s, first: 200) { nodes { symbol aggTradeId price } } }",
                         {"s": symbol})["trades"]["nodes"]
        got |= {(n["symbol"], int(n["aggTradeId"])) for n in nodes}
    assert got == recorded


def test_market_overview_is_the_latest_hour_and_its_24h_change(api: Api) -> None:
    body = api.gql("{ marketOverview { symbol latestTime price change24h volume24h } }")
    sid = snapshot_of(body, "gold.fact_price_hourly")
    btc = next(c for c in body["data"]["marketOverview"] if c["symbol"] == "BTCUSDT")
    rows = trino(f"SELECT open_time, close, volume FROM gold.fact_price_hourly FOR VERSION AS OF {sid} "
                 "WHERE symbol = ? ORDER BY open_time DESC LIMIT 25", ["BTCUSDT"])
    assert btc["price"] == rows[0][1] and datetime.fromisoformat(btc["latestTime"]) == rows[0][0]
    if rows[24][0] == rows[0][0] - timedelta(hours=24):
        assert btc["change24h"] == pytest.approx(rows[0][1] / rows[24][1] - 1)
    assert btc["volume24h"] == pytest.approx(sum(r[2] for r in rows[:24]))


def test_market_daily_where_and_order_by(api: Api) -> None:
    body = api.gql("{ marketDaily(symbol: \"BTCUSDT\", first: 200, orderBy: DESC, where: {change1d: {gt: 0.01}}) "
                   "{ nodes { date change1d price } } }")
    nodes = body["data"]["marketDaily"]["nodes"]
    sid = snapshot_of(body, "gold.fact_market_daily")
    want = trino(f"SELECT count(*) FROM gold.fact_market_daily FOR VERSION AS OF {sid} "
                 "WHERE symbol = ? AND change_1d > ?", ["BTCUSDT", 0.01])[0][0]
    assert len(nodes) == want > 0 and all(n["change1d"] > 0.01 for n in nodes)
    assert [n["date"] for n in nodes] == sorted((n["date"] for n in nodes), reverse=True)


def test_operations_fields_answer_from_the_ops_tables(api: Api) -> None:
    body = api.gql("""{ pipelineRuns(first: 5) { nodes { runId status steps { step status } } }
      dqResults(first: 5, layer: "gold") { nodes { layer tableName checkName outcome message } }
      alerts(first: 5) { nodes { alertId acknowledged } }
      vwap(symbol: "NKNUSDT", first: 5) { nodes { vwap windowStart } }
      anomalies(first: 5, where: {zscore: {gt: 0}}) { nodes { symbol zscore } }
      dataHealth { trustworthy tables { table rows lastSnapshotId qualityStatus } lastPipelineRun { runId } } }""")
    assert not body.get("errors"), body["errors"]
    d = body["data"]
    run = d["pipelineRuns"]["nodes"][0]
    one = api.data("query R($id: ID!) { pipelineRun(id: $id) { runId steps { step } } }", {"id": run["runId"]})
    assert one["pipelineRun"]["runId"] == run["runId"]
    assert all(r["layer"] == "gold" for r in d["dqResults"]["nodes"])
    assert all(a["zscore"] > 0 for a in d["anomalies"]["nodes"])
    health = {t["table"]: t for t in d["dataHealth"]["tables"]}
    sid = int(health["gold.market_ohlc"]["lastSnapshotId"])
    assert health["gold.market_ohlc"]["rows"] == trino(
        f"SELECT count(*) FROM gold.market_ohlc FOR VERSION AS OF {sid}")[0][0]


def test_model_fields_answer_cleanly_before_any_model_exists(api: Api) -> None:
    body = api.gql('{ modelComparison { modelName } predictionHistory(model: "ensemble") { nodes { probUp } } '
                   "retrainStatus { state } }")
    assert not body.get("errors"), body
    tables = {t for (t,) in trino("SELECT table_name FROM information_schema.tables WHERE table_schema = 'ml'")}
    if "predictions" not in tables:
        err = api.gql('{ prediction(symbol: "BTCUSDT") { probUp } }')["errors"][0]
        assert err["extensions"]["code"] == "NO_MODELS" and "no models trained yet" in err["message"]


def test_models_list_the_registry_with_its_lineage(api: Api) -> None:
    """``models`` answers from ml.models: every model, its state and the snapshots it was trained on."""
    tables = {t for (t,) in trino("SELECT table_name FROM information_schema.tables WHERE table_schema = 'ml'")}
    body = api.gql("{ models { modelId name state trainedSnapshots } }")
    if "models" not in tables:
        assert body["errors"][0]["extensions"]["code"] == "NO_MODELS"
        return
    assert not body.get("errors"), body
    from _api import snapshot_of

    if body["extensions"]["snapshots"]["ml.models"] is None:
        # ml.models exists but holds no snapshot yet (created, never written): nothing to list.
        assert body["data"]["models"] == []
        assert trino("SELECT count(*) FROM ml.models")[0][0] == 0
        return
    sid = snapshot_of(body, "ml.models")
    want = sorted((m, n, st, json.loads(snaps) if snaps else None) for m, n, st, snaps in trino(
        f"SELECT model_id, name, state, trained_snapshots_json FROM ml.models FOR VERSION AS OF {sid}"))
    got = sorted((m["modelId"], m["name"], m["state"], m["trainedSnapshots"]) for m in body["data"]["models"])
    assert got == want
    champions = api.gql('{ models(state: "champion") { state } }')["data"]["models"]
    assert all(m["state"] == "champion" for m in champions)


def test_expected_errors_are_typed_and_say_what_to_fix(api: Api) -> None:
    err = api.gql('{ candles(symbol: "NOPE", interval: "1h") { nodes { open } } }')["errors"][0]
    assert err["extensions"]["code"] == "UNKNOWN_SYMBOL" and "BTCUSDT" in err["message"]
    err = api.gql('{ candles(symbol: "BTCUSDT", interval: "7q") { nodes { open } } }')["errors"][0]
    assert err["extensions"]["code"] == "BAD_INTERVAL" and "1h" in err["message"]
    err = api.gql('{ pipelineRun(id: "nope") { runId } }')["errors"][0]
    assert err["extensions"]["code"] == "NOT_FOUND"


def test_the_third_party_plugin_table_is_a_root_field(api: Api, ticks_table: str) -> None:
    from _api import append_ticks

    append_ticks(ticks_table, [1, 2, 3])
    body = api.gql("{ exampleTicks(first: 10) { nodes { tick value quality { status } } } }")
    assert not body.get("errors"), body
    assert [n["tick"] for n in body["data"]["exampleTicks"]["nodes"]][:3] == [1, 2, 3]
    assert ticks_table in body["extensions"]["snapshots"]
