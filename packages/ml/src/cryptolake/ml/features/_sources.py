"""Where the inputs come from: Gold through Trino at recorded snapshots, or recorded files.

:func:`load_gold` reads ``<namespace>.fact_price_hourly`` (hourly candles) and
``<namespace>.fact_market_daily`` (daily facts, which carry the day's Fear & Greed index) with
``FOR VERSION AS OF <snapshot id>``; the ids are those given (a rebuild) or the tables' current
snapshots, and are returned so a model can record exactly what it was trained on.

:func:`load_csv_dir` reads the layout of the shared development data set and of the replay
sample (``binance/klines_1h/*.csv[.gz]``, ``feargreed/*.json``), for benchmarks and tests.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from cryptolake.core.settings import Settings

HOURLY = "fact_price_hourly"
DAILY = "fact_market_daily"


@dataclass(frozen=True)
class GoldSnapshot:
    """The Gold tables read, by identifier, and the snapshot id each was read at."""

    namespace: str
    snapshot_ids: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> str:
        return f"{self.namespace}.{name}"


def _published(settings: Settings, namespace: str) -> dict[str, int]:
    """The snapshot ids pinned by the latest publication of Gold in ``namespace`` (if any)."""
    try:
        from cryptolake.core.pipeline import latest_publication

        pub = latest_publication(settings, "gold", namespace)
    except Exception:  # no publications table yet: fall back to the current snapshots
        return {}
    if pub is None:
        return {}
    return {f"{namespace}.{t}": int(v) for t, v in pub.tables.items()
            if t in (HOURLY, DAILY) and v is not None}


def current_snapshots(settings: Settings, namespace: str = "gold") -> GoldSnapshot:
    """The snapshot ids of the two Gold tables the features read: those pinned by the latest
    publication of the layer (readers see a whole publication), else each table's current one."""
    from cryptolake.core.clients import load_catalog
    from cryptolake.core.errors import ConfigError

    published = _published(settings, namespace)
    if len(published) == 2:
        return GoldSnapshot(namespace, published)
    catalog = load_catalog(settings)
    ids: dict[str, int] = {}
    for name in (HOURLY, DAILY):
        ident = f"{namespace}.{name}"
        try:
            snap = catalog.load_table(ident).current_snapshot()
        except Exception as exc:
            raise ConfigError(
                f"cannot read {ident}: {exc}; build Gold first (cryptolake pipeline run)"
            ) from exc
        if snap is None:
            raise ConfigError(f"{ident} has no snapshot yet; build Gold first (cryptolake pipeline run)")
        ids[ident] = int(snap.snapshot_id)
    return GoldSnapshot(namespace, ids)


def load_gold(
    settings: Settings,
    *,
    namespace: str = "gold",
    snapshot: GoldSnapshot | None = None,
    symbols: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, GoldSnapshot]:
    """(candles, fear_greed, snapshot) read through Trino at ``snapshot`` (default: current)."""
    from cryptolake.core.clients import connect

    snap = snapshot or current_snapshots(settings, namespace)
    hourly, daily = snap.table(HOURLY), snap.table(DAILY)
    where = ""
    params: list[object] = []
    if symbols:
        where = "WHERE symbol IN (" + ", ".join("?" for _ in symbols) + ")"
        params = list(symbols)
    conn = connect(settings)
    try:
        cur = conn.cursor()
        cur.execute(
            f"SELECT symbol, open_time, CAST(open AS double), CAST(high AS double), "
            f"CAST(low AS double), CAST(close AS double), CAST(volume AS double) "
            f"FROM {hourly} FOR VERSION AS OF {int(snap.snapshot_ids[hourly])} {where}",
            params or None,
        )
        candles = pd.DataFrame(
            cur.fetchall(), columns=["symbol", "open_time", "open", "high", "low", "close", "volume"]
        )
        cur.execute(
            f"SELECT date, max(CAST(fear_greed_value AS double)) FROM {daily} "
            f"FOR VERSION AS OF {int(snap.snapshot_ids[daily])} "
            f"WHERE fear_greed_value IS NOT NULL GROUP BY date"
        )
        fear_greed = pd.DataFrame(cur.fetchall(), columns=["date", "value"])
    finally:
        conn.close()
    if not candles.empty:
        candles["open_time"] = pd.to_datetime(candles["open_time"], utc=True)
    return candles, fear_greed, snap


def _read_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt") as fh:
            return fh.read()
    return path.read_text()


def load_csv_dir(
    root: Path | str, symbols: Sequence[str] | None = None, *, drop_last: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(candles, fear_greed) from ``root/binance/klines_1h`` and ``root/feargreed``.

    ``drop_last`` drops each file's last bar: in the recorded exports it is an in-progress candle.
    """
    import io

    root = Path(root)
    frames = []
    for path in sorted((root / "binance" / "klines_1h").glob("*_1h.csv*")):
        symbol = path.name.split("_")[0]
        if symbols and symbol not in symbols:
            continue
        df = pd.read_csv(io.StringIO(_read_text(path)))
        df = df.rename(columns={"date": "open_time"})
        df["symbol"] = symbol
        df["open_time"] = pd.to_datetime(df["open_time"], utc=True)
        if drop_last and len(df):
            df = df.iloc[:-1]
        frames.append(df[["symbol", "open_time", "open", "high", "low", "close", "volume"]])
    candles = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["symbol", "open_time", "open", "high", "low", "close", "volume"]
    )
    rows = []
    for path in sorted((root / "feargreed").glob("*.json*")):
        for item in json.loads(_read_text(path)).get("data", []):
            ts = pd.Timestamp(int(item["timestamp"]), unit="s", tz="UTC")
            rows.append({"date": ts.tz_localize(None).normalize(), "value": float(item["value"])})
    fear_greed = pd.DataFrame(rows, columns=["date", "value"])
    return candles, fear_greed
