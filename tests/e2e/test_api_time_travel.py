"""asOf reads a past snapshot after a new commit; extensions name the snapshots read; the read
cache hits on a repeat and misses after a commit; ETag / If-None-Match."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from _api import Api, append_ticks

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]

TICKS = "query T($asOf: AsOf) { exampleTicks(first: 100, asOf: $asOf) { nodes { tick value } } }"


def _ticks(body: dict) -> list[int]:
    assert not body.get("errors"), body
    return [n["tick"] for n in body["data"]["exampleTicks"]["nodes"]]


def test_as_of_returns_the_earlier_values_after_a_new_commit(api: Api, ticks_table: str) -> None:
    first = append_ticks(ticks_table, [100, 101])
    before = api.gql(TICKS)
    assert int(before["extensions"]["snapshots"][ticks_table]) == first
    between = datetime.now(UTC)
    time.sleep(1.1)
    second = append_ticks(ticks_table, [102])
    now = api.gql(TICKS)
    assert int(now["extensions"]["snapshots"][ticks_table]) == second and 102 in _ticks(now)
    by_id = api.gql(TICKS, {"asOf": {"snapshotId": str(first)}})
    assert _ticks(by_id) == _ticks(before) and 102 not in _ticks(by_id)
    assert int(by_id["extensions"]["snapshots"][ticks_table]) == first
    by_time = api.gql(TICKS, {"asOf": {"timestamp": between.isoformat()}})
    assert _ticks(by_time) == _ticks(before)
    assert int(by_time["extensions"]["snapshots"][ticks_table]) == first


def test_an_unknown_snapshot_is_a_clear_error_not_an_empty_list(api: Api, ticks_table: str) -> None:
    append_ticks(ticks_table, [200])
    err = api.gql(TICKS, {"asOf": {"snapshotId": "123456789"}})["errors"][0]
    assert err["extensions"]["code"] == "UNKNOWN_SNAPSHOT" and ticks_table in err["message"]
    err = api.gql(TICKS, {"asOf": {"timestamp": "2001-01-01T00:00:00Z"}})["errors"][0]
    assert err["extensions"]["code"] == "UNKNOWN_SNAPSHOT"
    err = api.gql(TICKS, {"asOf": {"snapshotId": "1", "timestamp": "2001-01-01T00:00:00Z"}})["errors"][0]
    assert "exactly one" in err["message"].lower() or "one of" in err["message"].lower()


def test_as_of_on_a_gold_table_matches_trino_at_that_snapshot(api: Api) -> None:
    from _api import trino

    now = api.gql('{ candles(symbol: "BTCUSDT", interval: "1d", first: 3) { nodes { close } } }')
    sid = now["extensions"]["snapshots"]["gold.market_ohlc"]
    old = api.gql('query($s: ID!) { candles(symbol: "BTCUSDT", interval: "1d", first: 3, asOf: {snapshotId: $s}) '
                  "{ nodes { close } } }", {"s": sid})
    direct = trino(f"SELECT close FROM gold.market_ohlc FOR VERSION AS OF {int(sid)} WHERE symbol = 'BTCUSDT' "
                   "AND timeframe = '1d' ORDER BY bucket_start LIMIT 3")
    assert [n["close"] for n in old["data"]["candles"]["nodes"]] == [r[0] for r in direct]


def test_the_cache_hits_on_a_repeat_and_misses_after_a_commit(api: Api, ticks_table: str) -> None:
    q = "query Hot { exampleTicks(first: 50) { nodes { tick } } }"
    append_ticks(ticks_table, [300])
    a = api.gql(q)
    b = api.gql(q)
    assert (a["extensions"]["cache"], b["extensions"]["cache"]) == ("miss", "hit")
    assert a["data"] == b["data"] and a["extensions"]["snapshots"] == b["extensions"]["snapshots"]
    append_ticks(ticks_table, [301])
    c = api.gql(q)
    assert c["extensions"]["cache"] == "miss" and 301 in _ticks(c)


def test_as_of_answers_are_cached_and_carry_an_etag(api: Api, ticks_table: str) -> None:
    sid = append_ticks(ticks_table, [400])
    v = {"asOf": {"snapshotId": str(sid)}}
    first = api.post(TICKS, v)
    again = api.post(TICKS, v)
    assert again.json()["extensions"]["cache"] == "hit"
    tag = first.headers["etag"]
    assert tag and again.headers["etag"] == tag
    assert api.post(TICKS, v, headers={"If-None-Match": tag}).status_code == 304
    append_ticks(ticks_table, [401])  # an asOf answer never changes
    assert api.post(TICKS, v).json()["extensions"]["cache"] == "hit"


def test_event_lists_as_of_before_their_first_commit_are_empty(api: Api) -> None:
    # ops.alerts / ops.dq_results are written first when the first alert or result is recorded:
    # before that nothing had been raised, the same answer as when the table does not exist yet
    q = """query($t: DateTime!) { alerts(asOf: {timestamp: $t}) { nodes { alertId } }
                                  dqResults(asOf: {timestamp: $t}) { nodes { checkName } } }"""
    body = api.gql(q, {"t": "2001-01-01T00:00:00Z"})
    assert "errors" not in body, body
    assert body["data"]["alerts"]["nodes"] == [] and body["data"]["dqResults"]["nodes"] == []


def test_data_health_as_of_lists_the_tables_written_by_then(api: Api) -> None:
    # a table first written later (bronze.rejects on a clean sample, ops.alerts) is left out of
    # the as-of view instead of failing it
    from _api import trino

    q = """query($t: DateTime!) { dataHealth(asOf: {timestamp: $t}) { tables { table lastSnapshotId } } }"""
    now = api.data("{ dataHealth { tables { table lastSnapshotId } } }")["dataHealth"]["tables"]
    held = [t["table"] for t in now if t["lastSnapshotId"] is not None]
    first = {}
    for t in held:
        ns, name = t.split(".")
        first[t] = trino(f'SELECT min(committed_at) FROM {ns}."{name}$snapshots"')[0][0]
    latest = max(first, key=lambda t: first[t])
    earlier = [t for t in held if first[t] < first[latest]]
    assert earlier, first  # the sample's tables are not all first written in one instant
    when = first[latest] - timedelta(milliseconds=1)
    body = api.gql(q, {"t": when.isoformat()})
    assert "errors" not in body, body
    listed = {t["table"]: t["lastSnapshotId"] for t in body["data"]["dataHealth"]["tables"]}
    assert latest not in listed and set(earlier) <= set(listed)
    assert all(sid is not None for sid in listed.values())
    empty = api.gql(q, {"t": "2001-01-01T00:00:00Z"})
    assert "errors" not in empty and empty["data"]["dataHealth"]["tables"] == []
