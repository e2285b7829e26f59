"""CoinGecko REST client: ``/coins/markets`` and ``/coins/{id}/market_chart``."""

from __future__ import annotations

import logging
import os

from cryptolake.ingest.coingecko.config import CoinGeckoConfig
from cryptolake.ingest.http import HttpClient, Response

log = logging.getLogger(__name__)


def client(cfg: CoinGeckoConfig) -> HttpClient:
    headers = {"accept": "application/json"}
    key = os.environ.get(cfg.api_key_env)
    if key:
        headers[cfg.api_key_header] = key
    sent = f"sent as {cfg.api_key_header}" if key else "not set"
    return HttpClient(
        cfg.base_url,
        headers=headers,
        requests_per_minute=cfg.requests_per_minute,
        max_retries=cfg.max_retries,
        backoff_base_s=cfg.backoff_base_s,
        backoff_max_s=cfg.backoff_max_s,
        auth_setting=(
            f"{cfg.api_key_env} (the CoinGecko API key, {sent}; a Pro key needs "
            "api_key_header=x-cg-pro-api-key and the Pro base_url)"
        ),
    )


def market_chart(
    http: HttpClient, coin: str, vs: str, days: int | str, granularity: str
) -> Response:
    params: dict[str, object] = {"vs_currency": vs, "days": days}
    if granularity == "daily":
        params["interval"] = "daily"
    # hourly: CoinGecko returns hourly points by itself for 2..90 days (interval=hourly is paid)
    return http.get_json(f"/coins/{coin}/market_chart", params)


def markets(http: HttpClient, coins: list[str], vs: str, per_page: int = 250) -> Response:
    return http.get_json(
        "/coins/markets",
        {"vs_currency": vs, "ids": ",".join(coins), "per_page": per_page, "page": 1},
    )
