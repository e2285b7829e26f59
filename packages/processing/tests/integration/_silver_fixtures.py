"""Silver tables from recorded real data, for the Gold and quality tests and bench/gold.py.

Reads the recorded formats as they are stored (Binance ``klines_1h`` CSV, CoinGecko
``market_chart`` JSON, Alternative.me ``/fng`` JSON) — the small sample in ``tests/data`` or the
full shared data set — and appends them with pyiceberg to the Silver contracts
(``cryptolake.core.tables.silver``) in any namespace.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "silver_sample"
SHARED = Path("/work/shared/data")
COINS = {  # CoinGecko id -> exchange symbol
    "bitcoin": "BTCUSDT",
    "ethereum": "ETHUSDT",
    "cardano": "ADAUSDT",
    "binancecoin": "BNBUSDT",
    "ripple": "XRPUSDT",
}


def _now() -> datetime:
    return datetime.now(UTC)


def read_klines_1h(path: Path, first: date | None = None, last: date | None = None) -> list[dict[str, Any]]:
    """Rows of a ``date,open,high,low,close,volume,ticker`` klines CSV as silver.ohlcv_1h rows."""
    rows = []
    updated = _now()
    with path.open(newline="") as fh:
        for rec in csv.DictReader(fh):
            t = datetime.fromisoformat(rec["date"]).replace(tzinfo=UTC)
            if (first and t.date() < first) or (last and t.date() > last):
                continue
            rows.append(
                {
                    "symbol": rec["ticker"],
                    "open_time": t,
                    "open": float(rec["open"]),
                    "high": float(rec["high"]),
                    "low": float(rec["low"]),
                    "close": float(rec["close"]),
                    "volume": float(rec["volume"]),
                    "quote_volume": None,
                    "trade_count": None,
                    "source": "klines",
                    "kline_mismatch": None,
                    "updated_at": updated,
                }
            )
    return rows


def read_market_chart(path: Path, coin_id: str, first: date | None = None,
                      last: date | None = None) -> list[dict[str, Any]]:
    """A CoinGecko ``market_chart`` response as silver.market_daily rows (points at 00:00 UTC)."""
    data = json.loads(path.read_text())
    caps = {p[0]: p[1] for p in data.get("market_caps", [])}
    vols = {p[0]: p[1] for p in data.get("total_volumes", [])}
    rows: dict[date, dict[str, Any]] = {}
    updated = _now()
    for ms, price in data["prices"]:
        t = datetime.fromtimestamp(ms / 1000, UTC)
        if (t.hour, t.minute, t.second) != (0, 0, 0):
            continue  # the intraday "now" point is not a daily value
        d = t.date()
        if (first and d < first) or (last and d > last) or price is None:
            continue
        rows.setdefault(d, {
            "coin_id": coin_id, "symbol": COINS[coin_id], "date": d, "price": float(price),
            "market_cap": caps.get(ms), "total_volume": vols.get(ms), "updated_at": updated,
        })
    return list(rows.values())


def read_fear_greed(path: Path, first: date | None = None, last: date | None = None) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    rows = []
    updated = _now()
    for e in data["data"]:
        d = datetime.fromtimestamp(int(e["timestamp"]), UTC).date()
        if (first and d < first) or (last and d > last):
            continue
        rows.append({"date": d, "value": int(e["value"]),
                     "classification": e["value_classification"], "updated_at": updated})
    return sorted(rows, key=lambda r: r["date"])


def sample_rows(first: date | None = None, last: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """The test sample (3 coins, 46 days) as Silver rows, optionally cut to [first, last]."""
    hourly = [r for s in ("BTCUSDT", "ETHUSDT", "ADAUSDT")
              for r in read_klines_1h(SAMPLE / f"{s}_1h.csv", first, last)]
    daily = [r for c in ("bitcoin", "ethereum", "cardano")
             for r in read_market_chart(SAMPLE / f"coingecko_{c}.json", c, first, last)]
    return {"ohlcv_1h": hourly, "market_daily": daily,
            "fear_greed": read_fear_greed(SAMPLE / "fear_greed.json", first, last)}


def shared_rows(symbols: Sequence[str], first: date, last: date) -> dict[str, list[dict[str, Any]]]:
    """Rows from the full shared data set (bench): hourly klines, CoinGecko daily, Fear & Greed."""
    hourly = [r for s in symbols for r in read_klines_1h(SHARED / "binance/klines_1h" / f"{s}_1h.csv", first, last)]
    daily = []
    for coin, sym in COINS.items():
        path = SHARED / "coingecko/market_chart_5y_daily" / f"{coin}.json"
        if sym in symbols and path.is_file():
            daily += read_market_chart(path, coin, first, last)
    fg = read_fear_greed(SHARED / "feargreed/fear_greed.json", first, last)
    return {"ohlcv_1h": hourly, "market_daily": daily, "fear_greed": fg}


def append(catalog: Any, namespace: str, table: str, rows: Iterable[dict[str, Any]],
           settings: Any = None) -> int:
    """Append rows to the Silver table ``table`` (created from its contract) in ``namespace``.

    pyiceberg writes the rows into an unpartitioned load table, Trino copies them into the
    partitioned Silver table (pyiceberg needs pyiceberg-core to write time partitions).
    """
    import uuid

    import pyarrow as pa
    from pyiceberg.schema import Schema

    from cryptolake.core.clients import connect
    from cryptolake.core.tables import ensure_table, get_contract

    contract = get_contract(f"silver.{table}")
    ensure_table(catalog, contract, namespace=namespace)
    rows = list(rows)
    if not rows:
        return 0
    load_name = f"{namespace}.zz_load_{table}_{uuid.uuid4().hex[:8]}"
    schema: Schema = contract.iceberg_schema()
    loader = catalog.create_table(load_name, schema=schema)
    loader.append(pa.Table.from_pylist(rows, schema=contract.arrow_schema()))
    conn = connect(settings)
    try:
        cur = conn.cursor()
        cols = ", ".join(contract.column_names)
        cur.execute(f'INSERT INTO "{namespace}"."{table}" ({cols}) SELECT {cols} FROM {load_name}')
        cur.fetchall()
        cur.execute(f"DROP TABLE {load_name}")
        cur.fetchall()
    finally:
        conn.close()
    return len(rows)


def load(catalog: Any, namespace: str, tables: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: append(catalog, namespace, name, rows) for name, rows in tables.items()}


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
