"""The abuse list: each gets a clear error and leaves the server healthy. Plus keys and roles."""

from __future__ import annotations

from typing import Any

import pytest
from _api import BROKER_DB, READER_RATE, Api, Ws, trino

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _healthy_after(api: Api) -> Any:
    yield
    assert api.alive()
    assert api.data("{ coins { symbol } }")["coins"]


def test_a_depth_bomb_is_refused(api: Api) -> None:
    bomb = "{ __schema { types { fields { type " + "{ ofType " * 20 + "{ name }" + " }" * 20 + " } } } }"
    err = _error(api.gql(bomb))
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED" and err["extensions"]["limit"] == "depth"
    # the introspection GraphiQL sends still passes
    from graphql import get_introspection_query

    assert api.data(get_introspection_query())["__schema"]["queryType"]["name"] == "Query"


def test_an_alias_bomb_is_refused(api: Api) -> None:
    q = "{ " + " ".join(f"a{i}: coins {{ symbol }}" for i in range(200)) + " }"
    assert "aliases found. Allowed: 30" in _error(api.gql(q))["message"]


def test_a_huge_page_is_refused_with_the_maximum(api: Api) -> None:
    err = _error(api.gql('{ candles(symbol: "BTCUSDT", first: 1000000) { nodes { open } } }'))
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED" and err["extensions"]["max"] == 200


def test_a_query_over_the_token_limit_is_refused(api: Api) -> None:
    q = "{ coins { " + " ".join(["symbol"] * 3000) + " } }"
    assert "more than 2000 tokens" in _error(api.gql(q))["message"]


def test_a_request_over_the_cost_limit_is_refused_before_it_runs(api: Api) -> None:
    part = "pipelineRuns(first: 200) { nodes { steps { step status rowsIn rowsOut gate error startedAt endedAt } } }"
    err = _error(api.gql("{ " + " ".join(f"r{i}: {part}" for i in range(3)) + " }"))
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED" and err["extensions"]["limit"] == "cost"


INJECTIONS = ["'; DROP TABLE gold.market_ohlc; --", "BTCUSDT' OR '1'='1", "\\' UNION SELECT * FROM ops.alerts --",
              "1h'); DELETE FROM silver.trades; --"]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_sql_injection_strings_in_every_string_argument_are_just_values(api: Api, evil: str) -> None:
    before = trino("SELECT count(*) FROM gold.market_ohlc")[0][0]
    checks = [
        ("query($v: String!) { candles(symbol: $v) { nodes { open } } }", "UNKNOWN_SYMBOL"),
        ("query($v: String!) { candles(symbol: \"BTCUSDT\", interval: $v) { nodes { open } } }", "BAD_INTERVAL"),
        ("query($v: String!) { trades(symbol: $v) { nodes { price } } }", "UNKNOWN_SYMBOL"),
        ("query($v: String!) { vwap(symbol: $v) { nodes { vwap } } }", "UNKNOWN_SYMBOL"),
        ("query($v: String!) { marketDaily(symbol: $v) { nodes { price } } }", "UNKNOWN_SYMBOL"),
        ("query($v: String!) { candles(symbol: \"BTCUSDT\", after: $v) { nodes { open } } }", "BAD_CURSOR"),
        ("query($v: ID!) { pipelineRun(id: $v) { runId } }", "NOT_FOUND"),
        ("query($v: ID!) { candles(symbol: \"BTCUSDT\", asOf: {snapshotId: $v}) { nodes { open } } }", "BAD_ARGUMENT"),
    ]
    for q, code in checks:
        err = _error(api.gql(q, {"v": evil}))
        assert err["extensions"]["code"] == code, (q, err)
    empty = [
        "query($v: String!) { anomalies(symbol: $v, interval: $v) { nodes { zscore } } }",
        "query($v: String!) { dqResults(layer: $v, table: $v, status: $v, runId: $v) { nodes { outcome } } }",
        "query($v: String!) { pipelineRuns(pipeline: $v, status: $v) { nodes { runId } } }",
        "query($v: String!) { predictionHistory(model: $v, symbol: $v) { nodes { probUp } } }",
        "query($v: String!) { modelComparison(symbol: $v, period: $v) { modelName } }",
    ]
    for q in empty:
        body = api.gql(q, {"v": evil})
        assert not body.get("errors"), (q, body)
        assert all(not v or v.get("nodes") == [] for v in body["data"].values() if isinstance(v, dict))
    assert trino("SELECT count(*) FROM gold.market_ohlc")[0][0] == before


ACK = 'mutation { acknowledgeAlert(id: "no-such-alert") { alertId } }'


def test_an_unauthenticated_mutation_is_refused(api: Api) -> None:
    err = _error(api.gql(ACK))
    assert err["extensions"]["code"] == "UNAUTHENTICATED" and "operator" in err["message"]


def test_a_reader_key_cannot_mutate_and_an_operator_key_can(api: Api) -> None:
    err = _error(api.gql(ACK, key=api.key("reader")))
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = _error(api.gql(ACK, key=api.key("operator")))
    assert err["extensions"]["code"] == "NOT_FOUND"  # authorised: the alert does not exist


def test_a_revoked_key_is_refused(api: Api) -> None:
    out = api.cli("keys", "create", "--role", "operator", "--name", "to revoke")
    key = out.stdout.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    assert api.gql("{ coins { symbol } }", key=key)["data"]
    listed = api.cli("keys", "list")
    assert key_id in listed.stdout and key not in listed.stdout  # only the hash is stored
    assert api.cli("keys", "revoke", key_id).returncode == 0
    import time

    time.sleep(2.5)  # keys are re-checked every 2 s
    err = _error(api.gql(ACK, key=key))
    assert err["extensions"]["code"] == "UNAUTHENTICATED" and "revoked" in err["message"]


def test_mutations_queue_runs_on_celery_and_return_the_run_id(api: Api) -> None:
    import redis

    from cryptolake.core import get_settings

    body = api.gql("mutation { runPipeline(from: \"2024-11-30T00:00:00Z\", to: \"2024-12-01T00:00:00Z\") "
                   "{ runId pipeline status taskId } runMaintenance { runId status } "
                   "retrainModels(symbols: [\"btcusdt\"], fast: true) { runId taskId } }",
                   key=api.key("operator"))
    assert not body.get("errors"), body
    run = body["data"]["runPipeline"]
    assert run["status"] == "queued" and len(run["runId"]) == 12
    broker = redis.Redis.from_url(get_settings().redis_url(BROKER_DB))
    queued = b"".join(m for q in (b"cryptolake.light", b"cryptolake.heavy")
                      for m in broker.lrange(q, 0, -1))  # type: ignore[union-attr]
    assert run["runId"].encode() in queued
    assert body["data"]["runMaintenance"]["runId"].encode() in queued
    assert b"cryptolake.ml.retrain_models" in queued and b"BTCUSDT" in queued
    # the retraining is queued with keyword arguments (the task takes no positional ones) and
    # the run id the answer names, which cryptolake-ml records in ops.pipeline_runs
    retrain = body["data"]["retrainModels"]
    assert len(retrain["runId"]) == 12 and retrain["runId"].encode() in queued and b"run_id" in queued
    broker.flushdb()


def test_the_rate_limit_per_key(api: Api) -> None:
    import time

    key = api.key("reader", fresh=True)
    if time.time() % 60 > 40:  # the window is a clock minute: start the burst early in one
        time.sleep(61 - time.time() % 60)
    codes = []
    for _ in range(READER_RATE + 1):
        body = api.gql("{ coins { symbol } }", key=key)
        codes.append((body.get("errors") or [{}])[0].get("extensions", {}).get("code"))
    assert codes[-1] == "RATE_LIMITED" and codes.count(None) >= READER_RATE - 5


def test_a_websocket_without_connection_init_is_closed(api: Api) -> None:
    from websockets.exceptions import ConnectionClosed

    ws = Ws(api, init=False)
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


def test_a_subscribe_before_connection_init_is_unauthorized(api: Api) -> None:
    from websockets.exceptions import ConnectionClosed

    ws = Ws(api, init=False)
    ws.subscribe("1", "subscription { alerts { kind } }")
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_revoked_or_unknown_key_in_connection_init_is_refused(api: Api) -> None:
    from websockets.exceptions import ConnectionClosed

    ws = Ws(api, init=False)
    ws.send({"type": "connection_init", "payload": {"apiKey": "clk_nope_nope"}})
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_more_subscriptions_than_allowed_per_connection(api: Api) -> None:
    ws = Ws(api, {"apiKey": api.key("reader")})
    for i in range(3):
        ws.subscribe(str(i), "subscription { alerts { kind } }")
    ws.subscribe("9", "subscription { alerts { kind } }")
    msg = ws.next("9")
    assert msg["type"] == "error" and "limit" in msg["payload"][0]["message"].lower()
    ws.close()


def test_origins_outside_the_allow_list_get_no_cors_and_no_websocket(api: Api) -> None:
    import httpx
    from websockets.exceptions import InvalidStatus

    ok = httpx.options(api.url + "/graphql", headers={"Origin": "http://localhost:3000",
                                                       "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "http://localhost:3000"
    bad = httpx.options(api.url + "/graphql", headers={"Origin": "http://evil.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in bad.headers
    with pytest.raises((InvalidStatus, Exception)):
        Ws(api, origin="http://evil.example")
