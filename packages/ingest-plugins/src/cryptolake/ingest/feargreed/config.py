"""Configuration of the Fear & Greed source."""

from __future__ import annotations

from pydantic import Field

from cryptolake.ingest._job import BronzeTarget


class FearGreedConfig(BronzeTarget):
    base_url: str = Field("https://api.alternative.me", description="API base URL")
    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    requests_per_minute: int = 30
