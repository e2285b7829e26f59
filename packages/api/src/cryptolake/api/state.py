"""The state of one API process: settings, the lakehouse reader, keys, Redis, the Kafka hub.

A leaf module (it imports neither the app nor the request context), so the context, the
loaders and the app can all name it without an import cycle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cryptolake.api.auth import KeyStore
from cryptolake.api.errors import RateLimitedError
from cryptolake.api.lakehouse import Lakehouse
from cryptolake.api.settings import ApiSettings
from cryptolake.api.stream import Hub
from cryptolake.core import Settings


@dataclass
class ApiState:
    settings: ApiSettings
    core: Settings
    lakehouse: Lakehouse
    keys: KeyStore
    redis: Any
    hub: Hub | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def rate_limit(self, who: str, cap: int) -> Exception | None:
        """A fixed one-minute window per key ``who`` (``ip:<address>`` when anonymous), in Redis:
        at most ``cap`` requests a minute."""
        if self.redis is None:
            return None
        window = int(time.time() // 60)
        key = f"cryptolake:api:rate:{who}:{window}"
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        except Exception:  # Redis down: serve, and let /readyz say so
            return None
        if int(count) > cap:
            return RateLimitedError(f"more than {cap} requests this minute for {who}; slow down "
                                    "and retry in the next minute", retryAfterS=60 - int(time.time() % 60))
        return None
