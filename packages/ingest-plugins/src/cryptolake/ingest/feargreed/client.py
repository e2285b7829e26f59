"""Alternative.me client: ``/fng/?limit=N&format=json`` (``limit=0`` = the whole history)."""

from __future__ import annotations

from cryptolake.ingest.feargreed.config import FearGreedConfig
from cryptolake.ingest.http import HttpClient, Response


def client(cfg: FearGreedConfig) -> HttpClient:
    return HttpClient(
        cfg.base_url,
        requests_per_minute=cfg.requests_per_minute,
        max_retries=cfg.max_retries,
        backoff_base_s=cfg.backoff_base_s,
        backoff_max_s=cfg.backoff_max_s,
        auth_setting=f"the feargreed.index base_url ({cfg.base_url}) and any proxy in front of it",
    )


def fng(http: HttpClient, limit: int) -> Response:
    return http.get_json("/fng/", {"limit": limit, "format": "json"})
