"""The FastAPI application: GraphQL (GraphiQL) at /graphql, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from cryptolake.api.auth import KeyStore
from cryptolake.api.context import Context
from cryptolake.api.lakehouse import Lakehouse
from cryptolake.api.loaders import Loaders
from cryptolake.api.settings import ApiSettings, get_api_settings
from cryptolake.api.state import ApiState
from cryptolake.api.stream import Hub
from cryptolake.core import Settings, get_settings

log = logging.getLogger(__name__)

HEALTH_QUERY = "query Health { coins { symbol } }"


def _key_from(headers: Any, params: dict[str, Any] | None = None) -> str | None:
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    if headers.get("x-api-key"):
        return str(headers.get("x-api-key")).strip()
    if params:
        v = params.get("apiKey") or params.get("authorization") or params.get("Authorization")
        if isinstance(v, str):
            return v[7:].strip() if v.lower().startswith("bearer ") else v.strip()
    return None


async def _identify(state: ApiState, ctx: Context, key: str | None) -> None:
    ctx.key, ctx.bad_key = None, False
    if key is None:
        return
    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(state.lakehouse.pool, state.keys.verify, key)
    ctx.key, ctx.bad_key = found, found is None


class CryptoLakeRouter(GraphQLRouter):  # type: ignore[type-arg]
    async def on_ws_connect(self, context: Any) -> dict[str, object] | None:
        """Authenticate the WebSocket in ``connection_init`` (``{"apiKey": ...}`` or
        ``{"Authorization": "Bearer ..."}``); a bad key or disallowed anonymous use is refused."""
        params = getattr(context, "connection_params", None) or {}
        await _identify(context.app, context, _key_from({}, params))
        if context.bad_key or (context.key is None and not context.app.settings.anonymous_reads):
            raise ConnectionRejectionError({"reason": "unknown, revoked or missing API key"})
        return {"role": context.role}


def create_app(settings: ApiSettings | None = None, core: Settings | None = None,
               host: Any | None = None) -> FastAPI:
    import redis.asyncio as aioredis

    from cryptolake.api.schema import build_schema
    from cryptolake.core import build_plugin_manager

    s = settings or get_api_settings()
    c = core or get_settings()
    lake = Lakehouse(c, threads=s.trino_threads)
    state = ApiState(settings=s, core=c, lakehouse=lake, keys=KeyStore(lake.engine()),
                     redis=aioredis.Redis.from_url(c.redis_url(s.redis_db), socket_timeout=2,
                                                   socket_connect_timeout=2),
                     hub=Hub(c))
    schema = build_schema(host if host is not None else build_plugin_manager(c), s)

    async def get_context(request: Request = None, websocket: WebSocket = None,  # type: ignore[assignment]
                          response: Response = None) -> Context:  # type: ignore[assignment]
        conn = request if request is not None else websocket
        ctx = Context(app=state)
        ctx.request = conn
        ctx.response = response
        ctx.client = conn.client.host if conn is not None and conn.client else "unknown"
        ctx.loaders = Loaders(state)
        if request is not None:
            await _identify(state, ctx, _key_from(request.headers))
        return ctx

    router = CryptoLakeRouter(
        schema, context_getter=get_context, graphql_ide="graphiql" if s.graphiql else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=s.connection_init_wait_timeout_s),
        max_subscriptions_per_connection=s.max_subscriptions_per_connection,
        allowed_origins=s.allowed_origins,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(lake.pool, state.keys.ensure)
        if state.hub is not None:
            state.hub.start(loop)
        yield
        if state.hub is not None:
            await loop.run_in_executor(None, state.hub.stop)
        await state.redis.aclose()
        lake.close()

    app = FastAPI(title="CryptoLake GraphQL API", lifespan=lifespan)
    app.state.api = state
    app.state.schema = schema
    app.add_middleware(CORSMiddleware, allow_origins=list(s.allowed_origins), allow_credentials=False,
                       allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type", "X-API-Key", "If-None-Match"],
                       expose_headers=["ETag"])

    @app.middleware("http")
    async def etag(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        tag = response.headers.get("etag")
        if tag and request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return response  # type: ignore[no-any-return]

    app.include_router(router, prefix="/graphql")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        """Ready when a GraphQL query reaches Trino and Redis answers."""
        ctx = Context(app=state)
        ctx.loaders = Loaders(state)
        problems = []
        try:
            result = await schema.execute(HEALTH_QUERY, context_value=ctx)
            if result.errors:
                problems.append(f"graphql: {result.errors[0].message}")
        except Exception as exc:
            problems.append(f"graphql: {type(exc).__name__}")
        try:
            await state.redis.ping()
        except Exception as exc:
            problems.append(f"redis: {type(exc).__name__}")
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory cryptolake.api.app:app_factory`` (one app per worker process)."""
    from cryptolake.core.logging import configure

    c = get_settings()
    configure(c.log.level, c.log.format)
    return create_app()
