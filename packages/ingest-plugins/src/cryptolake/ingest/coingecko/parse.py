"""CoinGecko parsers: ``/coins/{id}/market_chart`` and ``/coins/markets`` responses."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import (
    Record,
    Reject,
    as_float,
    as_int,
    check_time,
    dumps,
    ms_to_dt,
    need,
)

MARKET_CHART = "coingecko_market_chart"
MARKETS = "coingecko_markets"
LAYOUT_CHART = "coingecko_market_chart_json"
LAYOUT_MARKETS = "coingecko_markets_json"
_SERIES = ("prices", "market_caps", "total_volumes")
HOUR_MS = 3_600_000
#: Recorded file names that are not the coin id (``bitcoin_chart.json``): suffixes dropped.
FILE_SUFFIXES = ("_market_chart", "-market-chart", "_chart", "-chart")
_COIN_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def coin_from_file_name(name: str) -> str | None:
    """The coin id a ``market_chart`` file is named after (``polkadot.json``), or ``None``."""
    stem = name.removesuffix(".gz").removesuffix(".json")
    for suffix in FILE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem if _COIN_ID.match(stem) else None


def unwrap(doc: Any) -> Any:
    """Some recorded responses are wrapped in ``{"data": …}`` by a mock server; unwrap them."""
    if isinstance(doc, dict) and set(doc) == {"data"}:
        return doc["data"]
    return doc


def guess_granularity(points: list[Any]) -> str:
    """``daily`` or ``hourly`` from the median step between the points' times."""
    times = sorted(
        p[0] for p in points if isinstance(p, list) and p and isinstance(p[0], (int, float))
    )
    steps = sorted(b - a for a, b in pairwise(times))
    if not steps:
        return "daily"
    return "hourly" if steps[len(steps) // 2] < 12 * HOUR_MS else "daily"


def market_chart_records(
    doc: Any,
    coin_id: str,
    *,
    vs_currency: str = "usd",
    granularity: str | None = None,
    origin: str,
    layout: str = LAYOUT_CHART,
    now: int | None = None,
) -> Iterator[Record | Reject]:
    """One record per point time; a point's payload is its slice of the three series."""
    what = f"coingecko market_chart {coin_id}"
    doc = unwrap(doc)
    if not isinstance(doc, dict) or "prices" not in doc:
        yield Reject(
            "expected an object with 'prices', 'market_caps', 'total_volumes'",
            dumps(doc)[:4096],
            layout,
            origin,
            MARKET_CHART,
        )
        return
    series: dict[str, dict[int, Any]] = {}
    for name in _SERIES:
        pts = doc.get(name) or []
        if not isinstance(pts, list):
            yield Reject(
                f"field {name!r} must be an array", dumps(pts)[:4096], layout, origin, MARKET_CHART
            )
            return
        series[name] = {}
        for p in pts:
            if (
                not isinstance(p, list)
                or len(p) != 2
                or isinstance(p[0], bool)
                or not isinstance(p[0], (int, float))
                or not math.isfinite(p[0])
            ):
                yield Reject(
                    f"{name}: expected [epoch ms, value], got {str(p)[:80]}",
                    dumps(p),
                    layout,
                    origin,
                    MARKET_CHART,
                )
                continue
            series[name][int(p[0])] = p[1]
    gran = granularity or guess_granularity([[t] for t in series["prices"]])
    for t in sorted(series["prices"]):
        point = {n: [[t, series[n][t]]] for n in _SERIES if t in series[n]}
        payload = dumps(point)
        o = f"{origin}@{t}"
        try:
            check_time(t, "prices[][0]", what, now=now)
            row = {
                "coin_id": coin_id,
                "vs_currency": vs_currency,
                "granularity": gran,
                "ts": ms_to_dt(t),
                "price": as_float(series["prices"][t], "prices[][1]", what, positive=True),
                "market_cap": as_float(
                    series["market_caps"].get(t), "market_caps[][1]", what, nullable=True
                ),
                "total_volume": as_float(
                    series["total_volumes"].get(t), "total_volumes[][1]", what, nullable=True
                ),
            }
        except RecordRejected as exc:
            yield Reject(exc.reason, payload, layout, o, MARKET_CHART)
            continue
        yield Record(MARKET_CHART, coin_id, t, row, payload, layout, o)


_FLOATS = (
    "market_cap",
    "fully_diluted_valuation",
    "total_volume",
    "high_24h",
    "low_24h",
    "price_change_24h",
    "price_change_percentage_24h",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "ath",
    "atl",
)


def _iso_ms(value: Any, field: str, what: str) -> int:
    if not isinstance(value, str):
        raise RecordRejected(what, f"field {field!r} must be an ISO time, got {value!r}")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordRejected(what, f"field {field!r} is not an ISO time: {value!r}") from None
    if dt.tzinfo is None:
        raise RecordRejected(what, f"field {field!r} has no time zone: {value!r}")
    return int(dt.timestamp() * 1000)


def market_records(
    doc: Any,
    *,
    vs_currency: str = "usd",
    origin: str,
    layout: str = LAYOUT_MARKETS,
    coins: set[str] | None = None,
    now: int | None = None,
) -> Iterator[Record | Reject]:
    doc = unwrap(doc)
    if not isinstance(doc, list):
        yield Reject(
            "expected a JSON array of coin objects", dumps(doc)[:4096], layout, origin, MARKETS
        )
        return
    for i, coin in enumerate(doc):
        payload = dumps(coin)
        o = f"{origin}#{i}"
        what = "coingecko /coins/markets"
        try:
            cid = need(coin, "id", what)
            if coins is not None and cid not in coins:
                continue
            updated = check_time(
                _iso_ms(need(coin, "last_updated", what), "last_updated", what),
                "last_updated",
                what,
                now=now,
            )
            row: dict[str, Any] = {
                "coin_id": cid,
                "symbol": need(coin, "symbol", what),
                "name": coin.get("name"),
                "vs_currency": vs_currency,
                "current_price": as_float(
                    need(coin, "current_price", what), "current_price", what, positive=True
                ),
                "market_cap_rank": (
                    as_int(coin["market_cap_rank"], "market_cap_rank", what)
                    if coin.get("market_cap_rank") is not None
                    else None
                ),
                "last_updated": ms_to_dt(updated),
            }
            for f in _FLOATS:
                row[f] = as_float(coin.get(f), f, what, nullable=True)
        except RecordRejected as exc:
            yield Reject(exc.reason, payload, layout, o, MARKETS)
            continue
        yield Record(MARKETS, row["coin_id"], updated, row, payload, layout, o)


# -- recorded files ---------------------------------------------------------------------------------


def detect(path: Path, head: bytes) -> str | None:
    compact = re.sub(rb"\s+", b"", head[:2048])
    if compact.startswith((b'{"prices":[[', b'{"data":{"prices":[[')):
        return LAYOUT_CHART
    if re.match(rb'^(\{"data":)?\[\{"id":"[a-z0-9-]+","symbol":', compact):
        return LAYOUT_MARKETS
    return None


def _load(path: Path, data: bytes, layout: str, feed: str) -> tuple[Any, Reject | None]:
    try:
        return json.loads(data), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Reject(f"unparsable JSON: {exc}", data[:4096], layout, path.name, feed)


def read_market_chart(path: Path, data: bytes, now: int | None = None) -> Iterator[Record | Reject]:
    doc, bad = _load(path, data, LAYOUT_CHART, MARKET_CHART)
    if bad:
        yield bad
        return
    coin = coin_from_file_name(path.name)
    if coin is None:
        yield Reject(
            f"cannot tell the coin id from the file name {path.name!r}: name the file after the "
            "CoinGecko coin id (e.g. polkadot.json)",
            data[:4096],
            LAYOUT_CHART,
            path.name,
            MARKET_CHART,
        )
        return
    yield from market_chart_records(doc, coin, origin=path.name, now=now)


def read_markets(path: Path, data: bytes, now: int | None = None) -> Iterator[Record | Reject]:
    doc, bad = _load(path, data, LAYOUT_MARKETS, MARKETS)
    if bad:
        yield bad
        return
    yield from market_records(doc, origin=path.name, now=now)


READERS: dict[str, Any] = {LAYOUT_CHART: read_market_chart, LAYOUT_MARKETS: read_markets}
