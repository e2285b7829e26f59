"""GraphQL types of the system domain."""

from __future__ import annotations

import strawberry


@strawberry.type
class ServiceLatency:
    service: str
    ok: bool
    latency_ms: float | None
    error: str | None


@strawberry.type(description="The API process and the services it reads.")
class SystemHealth:
    version: str
    role: str
    services: list[ServiceLatency]
    subscriptions: int
