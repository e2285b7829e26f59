"""CoinGecko and Alternative.me stand-ins serving the recorded real responses of the sample."""

from __future__ import annotations

import json
from typing import Any

from cryptolake.ingest.replay.config import SAMPLE_DIR
from standins.http import StandinHTTPServer, json_body

DAY_MS = 86_400_000


class CoinGeckoStandin(StandinHTTPServer):
    """``/api/v3/coins/markets`` and ``/api/v3/coins/{id}/market_chart`` from recorded files.

    Charts come from the sample's real daily files; ``days`` selects the newest points (as the
    API does, counting back from the newest recorded point); without ``interval=daily`` the
    recorded hourly bitcoin chart is served. An ``x-cg-demo-api-key`` header is recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, Any] = {}
        for p in sorted((SAMPLE_DIR / "coingecko/market_chart_5y_daily").glob("*.json")):
            self.charts[p.stem] = json.loads(p.read_bytes())
        self.hourly = json.loads(
            (SAMPLE_DIR / "coingecko/cryptosphere_2023-10/bitcoin_chart.json").read_bytes()
        )
        self.markets = json.loads(
            (SAMPLE_DIR / "coingecko/cryptosphere_2023-10/coins.json").read_bytes()
        )["data"]
        self.api_keys: list[str | None] = []
        self.route("/api/v3/coins/markets", self._markets)
        self.route("/api/v3/coins/", self._chart)

    def _markets(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        ids = set(params.get("ids", "").split(",")) - {""}
        rows = [c for c in self.markets if not ids or c["id"] in ids]
        return 200, json_body(rows), {}

    def _chart(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        coin = path.split("/")[4]
        if params.get("interval") != "daily":
            doc = (
                self.hourly
                if coin == "bitcoin"
                else {"prices": [], "market_caps": [], "total_volumes": []}
            )
            return 200, json_body(doc), {}
        doc = self.charts.get(coin)
        if doc is None:
            return 404, b'{"error":"coin not found"}', {}
        days = int(params.get("days", "1"))
        newest = max(t for t, _ in doc["prices"])
        cut = {k: [p for p in v if p[0] > newest - days * DAY_MS] for k, v in doc.items()}
        return 200, json_body(cut), {}


class FearGreedStandin(StandinHTTPServer):
    """``/fng/?limit=N&format=json`` from the recorded response (``limit=0``: everything)."""

    def __init__(self) -> None:
        super().__init__()
        self.doc = json.loads((SAMPLE_DIR / "feargreed/fear_greed.json").read_bytes())
        self.route("/fng/", self._fng)

    def _fng(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        limit = int(params.get("limit", "1"))
        data = self.doc["data"] if limit == 0 else self.doc["data"][:limit]
        return 200, json_body({**self.doc, "data": data}), {}
