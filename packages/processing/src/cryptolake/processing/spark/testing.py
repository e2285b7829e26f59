"""Recorded market data as Bronze rows and Kafka payloads, for tests and benchmarks.

The files are the shared recorded data set (``$CRYPTOLAKE_DATA`` or ``/work/shared/data``): real
Binance klines. Aggregate trades are *derived* from real 1m klines — four trades per minute at the
open, high, low and close, quantities splitting the volume exactly and trade-id ranges splitting
the trade count — so trades and klines reconcile exactly unless a test perturbs them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_DIR = Path(os.environ.get("CRYPTOLAKE_DATA", "/work/shared/data"))


def data_file(relative: str) -> Path:
    path = DATA_DIR / relative
    if not path.exists():
        raise FileNotFoundError(f"recorded data file {path} is missing (set CRYPTOLAKE_DATA)")
    return path


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _dec(value: str | float | Decimal) -> str:
    return f"{Decimal(str(value)):.8f}"


@dataclass(frozen=True)
class Kline:
    symbol: str
    interval: str
    open_time: datetime
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str | None
    trade_count: int | None
    is_closed: bool = True

    @property
    def step(self) -> timedelta:
        return {"1m": timedelta(minutes=1), "1h": timedelta(hours=1)}[self.interval]

    def event(self, event_time: datetime | None = None) -> dict[str, Any]:
        """The websocket ``kline`` event for this candle (every field Binance sends)."""
        close_time = self.open_time + self.step - timedelta(milliseconds=1)
        return {
            "e": "kline", "E": _ms(event_time or close_time), "s": self.symbol,
            "k": {
                "t": _ms(self.open_time), "T": _ms(close_time), "s": self.symbol,
                "i": self.interval, "f": 0, "L": max(0, (self.trade_count or 1) - 1),
                "o": self.open, "c": self.close, "h": self.high, "l": self.low,
                "v": self.volume, "n": self.trade_count or 0, "x": self.is_closed,
                "q": self.quote_volume or "0", "V": "0", "Q": "0", "B": "0",
            },
        }


def klines_1m(symbol: str = "BTCUSDT", limit: int | None = None) -> list[Kline]:
    """Real BTCUSDT 1m klines (``binance/klines_1m``; its times are close times at UTC+1)."""
    out = []
    with data_file("binance/klines_1m/BTCUSDT_1m.csv").open() as fh:
        for row in csv.DictReader(fh):
            close = datetime.fromisoformat(row["close_datetime"]).astimezone(UTC)
            open_time = (close + timedelta(milliseconds=1)) - timedelta(minutes=1)
            out.append(Kline(symbol, "1m", open_time.replace(microsecond=0), _dec(row["open"]),
                             _dec(row["high"]), _dec(row["low"]), _dec(row["close"]),
                             _dec(row["volume"]), _dec(row["quote_volume"]), int(row["trades"])))
            if limit and len(out) >= limit:
                break
    return out


def klines_1h(symbol: str, limit: int | None = None, start: datetime | None = None) -> list[Kline]:
    """Real 1h klines of ``symbol`` (``binance/klines_1h``)."""
    out = []
    with data_file(f"binance/klines_1h/{symbol}_1h.csv").open() as fh:
        for row in csv.DictReader(fh):
            t = datetime.strptime(row["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            if start and t < start:
                continue
            out.append(Kline(symbol, "1h", t, row["open"], row["high"], row["low"], row["close"],
                             row["volume"], None, None))
            if limit and len(out) >= limit:
                break
    return out


def trades_from_klines(klines: Iterable[Kline], first_id: int = 1_000_000) -> list[dict[str, Any]]:
    """Four ``aggTrade`` events per 1m kline at :00, :15, :30, :45 (open, high, low, close)."""
    out: list[dict[str, Any]] = []
    agg_id, trade_id = first_id, first_id * 10
    for k in klines:
        volume = Decimal(k.volume)
        q = [(volume / 4).quantize(Decimal("0.00000001"))] * 3
        q.append(volume - sum(q))
        n = max(4, k.trade_count or 4)
        counts = [n // 4] * 3 + [n - 3 * (n // 4)]
        for i, (price, qty, cnt) in enumerate(zip((k.open, k.high, k.low, k.close), q, counts,
                                                 strict=True)):
            t = k.open_time + timedelta(seconds=15 * i)
            out.append({"e": "aggTrade", "E": _ms(t) + 3, "s": k.symbol, "a": agg_id,
                        "p": price, "q": f"{qty:.8f}", "f": trade_id, "l": trade_id + cnt - 1,
                        "T": _ms(t), "m": i % 2 == 0, "M": True})
            agg_id += 1
            trade_id += cnt
    return out


# -- Bronze rows (what the stream or the ingest sources would have written) -----------------------


def _meta(payload: dict[str, Any], layout: str, ingested_at: datetime, offset: int | None,
          topic: str | None) -> dict[str, Any]:
    text = json.dumps(payload, separators=(",", ":"))
    return {
        "source": "test.recorded", "layout": layout, "origin": f"test:{offset}",
        "ingested_at": ingested_at, "kafka_topic": topic,
        "kafka_partition": 0 if offset is not None else None, "kafka_offset": offset,
        "payload": text, "payload_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def bronze_trade_row(event: dict[str, Any], ingested_at: datetime, offset: int | None = None
                     ) -> dict[str, Any]:
    return {
        "symbol": event["s"], "agg_trade_id": event["a"], "price": event["p"],
        "quantity": event["q"], "first_trade_id": event["f"], "last_trade_id": event["l"],
        "trade_time": _ts(event["T"]), "event_time": _ts(event["E"]),
        "is_buyer_maker": event["m"], "is_best_match": event["M"],
        **_meta(event, "binance_ws_aggtrade", ingested_at, offset, "binance.aggtrade"),
    }


def bronze_kline_row(event: dict[str, Any], ingested_at: datetime, offset: int | None = None
                     ) -> dict[str, Any]:
    k = event["k"]
    return {
        "symbol": event["s"], "interval": k["i"], "open_time": _ts(k["t"]),
        "close_time": _ts(k["T"]), "open": k["o"], "high": k["h"], "low": k["l"],
        "close": k["c"], "volume": k["v"], "quote_volume": k["q"], "trade_count": k["n"],
        "taker_buy_base_volume": k["V"], "taker_buy_quote_volume": k["Q"],
        "first_trade_id": k["f"], "last_trade_id": k["L"], "is_closed": k["x"],
        "event_time": _ts(event["E"]),
        **_meta(event, "binance_ws_kline", ingested_at, offset, f"binance.kline_{k['i']}"),
    }


def rows_frame(session: Any, contract: Any, rows: list[dict[str, Any]]) -> Any:
    """``rows`` (dicts by column name) as a Spark DataFrame of the contract's columns and types."""
    schema = ", ".join(f"`{c.name}` {c.spark_type()}" for c in contract.columns)
    names = contract.column_names
    return session.createDataFrame([tuple(r.get(n) for n in names) for r in rows], schema)


def append_rows(session: Any, ident: str, contract: Any, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` (dicts by column name) to the Iceberg table ``ident`` through Spark.

    ``ident`` is ``catalog.namespace.table``; values are typed by the contract (pyiceberg cannot
    write a partitioned table here without pyiceberg-core)."""
    rows_frame(session, contract, rows).writeTo(ident).append()


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i: i + size]
