"""Settings of the GraphQL service: ``CRYPTOLAKE_API__<KEY>`` (each listed in core's known_env)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RoleLimits(BaseModel):
    """What one role may ask in one request."""

    max_page_size: int = 500
    max_cost: int = 200_000
    rate_per_minute: int = 1200


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CRYPTOLAKE_API__", env_nested_delimiter="__", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = 18000
    workers: int = 1
    anonymous_reads: bool = Field(True, description="unauthenticated clients may read (local demo)")
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:3000", "http://localhost:3000",
                                 "http://127.0.0.1:18000", "http://localhost:18000"],
        description="CORS and WebSocket origin allow-list",
    )
    max_depth: int = 10
    max_introspection_depth: int = Field(
        15, description="nesting allowed counting introspection fields (GraphiQL's query needs 13)")
    max_aliases: int = 30
    max_tokens: int = 2000
    anonymous: RoleLimits = RoleLimits(max_page_size=200, max_cost=100_000, rate_per_minute=600)
    reader: RoleLimits = RoleLimits()
    operator: RoleLimits = RoleLimits(max_page_size=1000, max_cost=500_000, rate_per_minute=2400)
    trino_threads: int = Field(8, description="bounded thread pool for Trino calls")
    cache: bool = True
    cache_ttl_s: int = Field(600, description="expiry of cached answers of the current data")
    redis_db: int = Field(2, description="Redis database of the cache and the rate limiter")
    max_subscriptions_per_connection: int = 10
    connection_init_wait_timeout_s: float = 5.0
    graphiql: bool = True

    def limits(self, role: str) -> RoleLimits:
        return {"operator": self.operator, "reader": self.reader}.get(role, self.anonymous)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
