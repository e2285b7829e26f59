"""The GraphQL client: answers, errors, an unreachable API, and the graphql-transport-ws protocol
against a local WebSocket server speaking it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from cryptolake.web.graphql import (
    ApiUnreachableError,
    GraphQLClient,
    GraphQLError,
    auth_headers,
    nodes,
    subscribe,
)


def _client(handler: Any) -> GraphQLClient:
    return GraphQLClient("http://api.test/graphql", transport=httpx.MockTransport(handler))


def test_an_answer_with_data_and_extensions() -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(json.loads(request.content), auth=request.headers.get("authorization"))
        return httpx.Response(200, json={"data": {"coins": [{"symbol": "BTCUSDT"}]},
                                         "extensions": {"snapshots": {"gold.dim_coins": "1"}}})

    answer = asyncio.run(_client(handler).execute("query($a: Int) { coins { symbol } }", {"a": 1},
                                                  headers=auth_headers("clk_x_y")))
    assert answer.data == {"coins": [{"symbol": "BTCUSDT"}]}
    assert answer.extensions["snapshots"] == {"gold.dim_coins": "1"}
    assert seen["variables"] == {"a": 1} and seen["auth"] == "Bearer clk_x_y"


def test_graphql_errors_carry_their_messages_and_partial_data() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"a": 1, "b": None},
                                         "errors": [{"message": "unknown symbol 'XYZ'"}]})

    with pytest.raises(GraphQLError) as exc:
        asyncio.run(_client(handler).execute("{ a b }"))
    assert exc.value.messages == ["unknown symbol 'XYZ'"] and exc.value.data == {"a": 1, "b": None}


@pytest.mark.parametrize("status", [502, 503])
def test_an_http_error_without_a_graphql_body_is_unreachable(status: int) -> None:
    with pytest.raises(ApiUnreachableError, match=str(status)):
        asyncio.run(_client(lambda r: httpx.Response(status, text="bad gateway")).execute("{ a }"))


def test_a_refused_connection_is_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ApiUnreachableError, match="did not answer"):
        asyncio.run(_client(handler).execute("{ a }"))


def test_nodes_reads_lists_and_connections() -> None:
    assert nodes([{"a": 1}]) == [{"a": 1}]
    assert nodes({"nodes": [{"a": 1}]}) == [{"a": 1}]
    assert nodes({"edges": [{"node": {"a": 2}, "cursor": "c"}]}) == [{"a": 2}]
    assert nodes(None) == [] and nodes({"pageInfo": {}}) == []


async def _serve(events: list[dict[str, Any]], final: dict[str, Any]) -> tuple[Any, int, list[Any]]:
    import websockets

    received: list[Any] = []

    async def handler(ws: Any) -> None:
        assert ws.request.headers.get("Sec-WebSocket-Protocol") == "graphql-transport-ws"
        init = json.loads(await ws.recv())
        received.append(init)
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}
        await ws.send(json.dumps({"type": "connection_ack"}))
        sub = json.loads(await ws.recv())
        received.append(sub)
        for payload in events:
            await ws.send(json.dumps({"id": sub["id"], "type": "next", "payload": payload}))
        await ws.send(json.dumps({"id": sub["id"], **final}))
        await asyncio.sleep(0.2)

    server = await websockets.serve(handler, "127.0.0.1", 0,
                                    subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    port = next(iter(server.sockets)).getsockname()[1]
    return server, port, received


def test_a_subscription_yields_every_next_until_complete() -> None:
    async def run() -> tuple[list[dict[str, Any]], list[Any], bool]:
        server, port, received = await _serve(
            [{"data": {"candles": {"close": 1.0}}}, {"data": {"candles": {"close": 2.0}}}],
            {"type": "complete"})
        ready = []

        async def subscribed() -> None:
            ready.append(True)

        out = [d async for d in subscribe(f"ws://127.0.0.1:{port}/graphql", "subscription { candles }",
                                          {"symbol": "BTCUSDT"}, connection_params={"k": "v"},
                                          on_subscribed=subscribed)]
        server.close()
        return out, received, bool(ready)

    out, received, ready = asyncio.run(run())
    assert out == [{"candles": {"close": 1.0}}, {"candles": {"close": 2.0}}]
    assert received[0] == {"type": "connection_init", "payload": {"k": "v"}}
    assert received[1]["type"] == "subscribe"
    assert received[1]["payload"]["variables"] == {"symbol": "BTCUSDT"}
    assert ready


def test_an_error_message_raises_graphql_error() -> None:
    async def run() -> None:
        server, port, _ = await _serve([], {"type": "error", "payload": [{"message": "bad interval '7x'"}]})
        try:
            async for _ in subscribe(f"ws://127.0.0.1:{port}/graphql", "subscription { x }"):
                pass
        finally:
            server.close()

    with pytest.raises(GraphQLError, match="bad interval"):
        asyncio.run(run())


def test_no_server_is_unreachable() -> None:
    async def run() -> None:
        async for _ in subscribe("ws://127.0.0.1:9/graphql", "subscription { x }", open_timeout=2):
            pass

    with pytest.raises(ApiUnreachableError):
        asyncio.run(run())
