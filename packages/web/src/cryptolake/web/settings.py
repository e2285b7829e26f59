"""Settings of the web app: ``CRYPTOLAKE_WEB__<KEY>`` environment variables.

The web app imports no other CryptoLake package (it talks to the API over HTTP and WebSocket
only), so it reads its few settings itself; each is listed in ``cryptolake.core.known_env`` with
``owner="cryptolake-web"``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: every variable this module reads, with its default and meaning (kept in step with known_env)
ENV: dict[str, tuple[str, str]] = {
    "CRYPTOLAKE_WEB__HOST": ("127.0.0.1", "address the web app listens on"),
    "CRYPTOLAKE_WEB__PORT": ("13000", "port of the web app (frontend and backend on one port)"),
    "CRYPTOLAKE_WEB__API_URL": (
        "http://127.0.0.1:18000/graphql",
        "GraphQL endpoint of the API (HTTP; the WebSocket URL is derived from it)",
    ),
    "CRYPTOLAKE_WEB__API_TIMEOUT_S": ("10", "seconds before an API request counts as unreachable"),
    "CRYPTOLAKE_WEB__STALE_AFTER_S": (
        "172800",
        "freshness lag (seconds) above which a page shows the stale-data banner",
    ),
    "CRYPTOLAKE_WEB__DEFAULT_SYMBOL": ("BTCUSDT", "the coin the pages open on"),
}


def _get(name: str) -> str:
    return os.environ.get(name) or ENV[name][0]


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    api_url: str
    api_timeout_s: float
    stale_after_s: float
    default_symbol: str

    @property
    def api_ws_url(self) -> str:
        """The API's WebSocket URL (graphql-transport-ws) on the same path as ``api_url``."""
        if self.api_url.startswith("https://"):
            return "wss://" + self.api_url[len("https://") :]
        if self.api_url.startswith("http://"):
            return "ws://" + self.api_url[len("http://") :]
        return self.api_url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def read_settings() -> WebSettings:
    return WebSettings(
        host=_get("CRYPTOLAKE_WEB__HOST"),
        port=int(_get("CRYPTOLAKE_WEB__PORT")),
        api_url=_get("CRYPTOLAKE_WEB__API_URL"),
        api_timeout_s=float(_get("CRYPTOLAKE_WEB__API_TIMEOUT_S")),
        stale_after_s=float(_get("CRYPTOLAKE_WEB__STALE_AFTER_S")),
        default_symbol=_get("CRYPTOLAKE_WEB__DEFAULT_SYMBOL"),
    )


@lru_cache(maxsize=1)
def get_web_settings() -> WebSettings:
    """The process-wide settings, read once."""
    return read_settings()


def home() -> Path:
    """``$CRYPTOLAKE_HOME`` (default ``~/.cache/cryptolake``), where the web venv, bun and the
    build directory live."""
    explicit = os.environ.get("CRYPTOLAKE_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cryptolake"
