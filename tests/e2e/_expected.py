"""Row counts computed straight from the bundled sample files, independently of the pipeline.

Only the standard library reads the recorded files here (none of the project's parsers), so a
parser bug cannot hide in both the pipeline and its expectation.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "packages/ingest-plugins/src/cryptolake/ingest/replay/sample"
)
Key = tuple[str, datetime]


def hourly_klines(sample: Path = SAMPLE) -> set[Key]:
    """(symbol, open hour) of every 1-hour kline, in all three recorded CSV layouts."""
    keys: set[Key] = set()
    for f in sample.glob("binance/klines_1h/*.csv.gz"):
        for r in csv.DictReader(gzip.open(f, "rt")):
            keys.add((r["ticker"], datetime.fromisoformat(r["date"]).replace(tzinfo=UTC)))
    for f in sample.glob("binance/klines_1h_vision_12col/*.csv.gz"):
        symbol = f.name.split("-")[0]
        for r in csv.DictReader(gzip.open(f, "rt")):
            keys.add((symbol, datetime.fromtimestamp(int(r["open_time"]) / 1000, UTC)))
    for f in sample.glob("binance/klines_1h_cryptodatadownload/*.csv"):
        lines = f.read_text().splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("unix"))
        for r in csv.DictReader(lines[start:]):
            unix = float(r["unix"])
            seconds = unix / 1000 if unix > 1e11 else unix  # the file mixes ms and s
            keys.add((r["symbol"].replace("/", ""), datetime.fromtimestamp(seconds, UTC)))
    return keys


def minute_klines(sample: Path = SAMPLE) -> set[Key]:
    """(symbol, open minute) of every 1-minute kline: the 1m CSV and the websocket capture."""
    keys: set[Key] = set()
    for r in csv.DictReader(gzip.open(sample / "binance/klines_1m/BTCUSDT_1m.csv.gz", "rt")):
        close = datetime.fromisoformat(r["close_datetime"]).astimezone(UTC)
        keys.add(("BTCUSDT", (close - timedelta(seconds=59.999)).replace(second=0, microsecond=0)))
    for capture in sample.glob("websocket/*/BINANCE.ws.*"):
        for line in capture.read_text().splitlines():
            m = re.search(r'"e":"kline".*?"s":"([A-Z]+)","k":\{"t":(\d+)', line)
            if m:
                keys.add((m.group(1), datetime.fromtimestamp(int(m.group(2)) / 1000, UTC)))
    return keys


def agg_trades(sample: Path = SAMPLE) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for capture in sample.glob("websocket/*/BINANCE.ws.*"):
        for line in capture.read_text().splitlines():
            m = re.search(r'"e":"aggTrade".*?"s":"([A-Z]+)","a":(\d+)', line)
            if m:
                keys.add((m.group(1), int(m.group(2))))
    return keys


def fear_greed_days(sample: Path = SAMPLE) -> set[object]:
    data = json.loads((sample / "feargreed/fear_greed.json").read_text())["data"]
    return {datetime.fromtimestamp(int(d["timestamp"]), UTC).date() for d in data}


@dataclass(frozen=True)
class Expected:
    ohlcv_1m: int
    ohlcv_1h: int
    market_ohlc: int
    symbols: int
    trades: int
    fear_greed: int


def expected(sample: Path = SAMPLE) -> Expected:
    minutes = minute_klines(sample)
    hours = hourly_klines(sample) | {(s, t.replace(minute=0)) for s, t in minutes}
    four_hours = {(s, t.replace(hour=t.hour - t.hour % 4)) for s, t in hours}
    days = {(s, t.replace(hour=0)) for s, t in hours}
    return Expected(
        ohlcv_1m=len(minutes),
        ohlcv_1h=len(hours),
        market_ohlc=len(hours) + len(four_hours) + len(days),
        symbols=len({s for s, _ in hours}),
        trades=len(agg_trades(sample)),
        fear_greed=len(fear_greed_days(sample)),
    )
