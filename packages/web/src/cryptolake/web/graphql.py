"""The web app's only way to the data: the CryptoLake GraphQL API.

- :class:`GraphQLClient` — queries and mutations over HTTP (``POST`` with JSON), async (httpx).
- :func:`subscribe` — a subscription over WebSocket with the ``graphql-transport-ws`` protocol
  (``connection_init`` → ``connection_ack`` → ``subscribe`` → ``next``… → ``complete``), as an
  async iterator of the ``data`` of each ``next`` message.

Errors a page reacts to: :class:`ApiUnreachableError` (no answer, a timeout, an HTTP 5xx: the
page shows the unreachable banner) and :class:`GraphQLError` (the API answered with ``errors``:
the page shows their messages). No Reflex import here: unit-tested on its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"


class ApiError(Exception):
    """Base of the errors of talking to the API."""


class ApiUnreachableError(ApiError):
    """The API did not answer (refused, timed out, or answered with an HTTP error status)."""


class GraphQLError(ApiError):
    """The API answered with GraphQL ``errors``; ``messages`` lists them."""

    def __init__(self, errors: list[dict[str, Any]], data: dict[str, Any] | None = None) -> None:
        self.errors = errors
        self.data = data
        self.messages = [str(e.get("message", e)) for e in errors] or ["unknown GraphQL error"]
        super().__init__("; ".join(self.messages))


@dataclass
class Answer:
    """One GraphQL answer: ``data`` and the ``extensions`` (e.g. the snapshots read)."""

    data: dict[str, Any]
    extensions: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The headers that carry an API key (an operator key for mutations)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class GraphQLClient:
    """An async GraphQL client over HTTP; one per call site is fine (connections are cheap on
    loopback), or keep one and ``aclose`` it."""

    def __init__(
        self, url: str, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._transport = transport

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        operation_name: str | None = None,
    ) -> Answer:
        body: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            body["operationName"] = operation_name
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                resp = await http.post(
                    self.url, json=body, headers={**self.headers, **(headers or {})}
                )
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise ApiUnreachableError(f"the API at {self.url} did not answer: {exc!r}") from exc
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
            raise ApiUnreachableError(
                f"the API at {self.url} answered HTTP {resp.status_code} without a GraphQL body"
            )
        if payload.get("errors"):
            raise GraphQLError(list(payload["errors"]), payload.get("data"))
        return Answer(
            data=payload.get("data") or {},
            extensions=payload.get("extensions") or {},
            seconds=loop.time() - t0,
        )


async def subscribe(
    ws_url: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    connection_params: Mapping[str, Any] | None = None,
    open_timeout: float = 10.0,
    on_subscribed: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield the ``data`` of every ``next`` message of one subscription until ``complete``.

    Raises :class:`ApiUnreachableError` when the connection cannot be opened or drops, and
    :class:`GraphQLError` on an ``error`` message. Answers the server's ``ping`` with ``pong``.
    ``on_subscribed`` is awaited once the server acknowledged the connection and the
    subscription was sent (the page then says "live" before the first event).
    """
    import websockets

    try:
        ws = await websockets.connect(
            ws_url, subprotocols=[PROTOCOL], open_timeout=open_timeout,  # type: ignore[list-item]
            max_size=2**24,
        )
    except (TimeoutError, OSError, websockets.InvalidHandshake) as exc:
        raise ApiUnreachableError(f"no WebSocket to {ws_url}: {exc!r}") from exc
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": dict(connection_params or {})}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), open_timeout))
            if msg.get("type") == "connection_ack":
                break
            if msg.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": query, "variables": dict(variables or {})}}))
        if on_subscribed is not None:
            await on_subscribed()
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "next":
                payload = msg.get("payload") or {}
                if payload.get("errors"):
                    raise GraphQLError(list(payload["errors"]), payload.get("data"))
                yield payload.get("data") or {}
            elif kind == "error":
                raise GraphQLError(list(msg.get("payload") or []))
            elif kind == "complete":
                return
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
    except websockets.ConnectionClosed as exc:
        raise ApiUnreachableError(f"the WebSocket to {ws_url} closed: {exc!r}") from exc
    except (TimeoutError, OSError) as exc:
        raise ApiUnreachableError(f"the WebSocket to {ws_url} failed: {exc!r}") from exc
    finally:
        try:
            await ws.close()
        except Exception:  # closing a dead socket
            pass


def nodes(value: Any) -> list[dict[str, Any]]:
    """The items of a list field, whether the API returns a plain list, a connection with
    ``nodes``, or a connection with ``edges { node }``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("nodes"), list):
            return value["nodes"]
        if isinstance(value.get("edges"), list):
            return [e.get("node", e) for e in value["edges"]]
        if isinstance(value.get("items"), list):
            return value["items"]
    return []
