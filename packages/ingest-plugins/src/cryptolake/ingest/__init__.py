"""cryptolake-ingest: the source plugins (Binance, CoinGecko, Fear & Greed, replay)."""

from __future__ import annotations

__version__ = "0.1.0"
