"""Root query fields of the system domain: health and latency of the services behind the API."""

from __future__ import annotations

import asyncio
import time

import strawberry
from strawberry.types import Info

from cryptolake.api.system.types import ServiceLatency, SystemHealth


async def _timed(name: str, coro: object) -> ServiceLatency:
    started = time.perf_counter()
    try:
        await coro  # type: ignore[misc]
        return ServiceLatency(service=name, ok=True, latency_ms=(time.perf_counter() - started) * 1000,
                              error=None)
    except Exception as exc:  # reported, not raised: this field says what is down
        return ServiceLatency(service=name, ok=False, latency_ms=None, error=type(exc).__name__)


@strawberry.type
class SystemQuery:
    @strawberry.field(description="Round-trip latency to Trino, the catalog and Redis, now.")
    async def health(self, info: Info) -> SystemHealth:
        from cryptolake.api import __version__

        app = info.context.app
        checks = await asyncio.gather(
            _timed("trino", app.lakehouse.query("SELECT count(*) FROM tpch.tiny.nation")),
            _timed("catalog", app.lakehouse.locations()),
            _timed("redis", app.redis.ping()),
        )
        return SystemHealth(version=__version__, role=info.context.role, services=list(checks),
                            subscriptions=app.hub.subscribers if app.hub else 0)


TABLES: dict[str, list[str]] = {"health": []}
