"""Candle CSV files, read by their header whatever the column order and the extra columns.

One reader serves every candle CSV: the header's names are matched against the aliases of each
kline field (``open_time`` / ``timestamp`` / ``unix`` / ``date`` …, ``open`` …, ``tradecount`` …),
so the order of the columns and any extra columns do not matter. Headerless files are read with
Binance's 12 archive columns.

- **symbol** and **interval** come from a ``symbol`` / ``ticker`` / ``pair`` and an ``interval``
  / ``timeframe`` column when the file has them, else from the file name
  (``BTCUSDT-1h-2023-03.csv``, ``Binance_BTCUSDT_1h.csv``, ``ETHUSDT_1m.csv`` …), else the file
  is one reject saying which is missing;
- **times** are epoch seconds, milliseconds or microseconds (told apart by magnitude), or ISO 8601
  with or without a UTC offset (without: UTC); a file with a close time but no open time (a pandas
  export of ``close_datetime``) opens ``interval - 1 ms`` before it closes.

Large files take a vectorised path (:mod:`~cryptolake.ingest.binance._vector`): same checks, same
bytes, rows it refuses re-read here one by one so their rejects carry the same reasons.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from cryptolake.core import RecordRejected
from cryptolake.ingest._records import Record, Reject, as_int
from cryptolake.ingest.binance.events import INTERVAL_MS, KLINES
from cryptolake.ingest.binance.kline import TOPICS, Kline, kline_record

Window = tuple[int | None, int | None] | None

#: Layout names (kept in Bronze ``layout``): the well-known exports, and any other headed file.
LAYOUT_VISION = "binance_kline_csv_12col"
LAYOUT_TICKER = "binance_kline_csv_ohlcv_ticker"
LAYOUT_CDD = "cdd_kline_csv"
LAYOUT_CLOSE_DT = "binance_kline_csv_close_datetime"
LAYOUT_HEADER = "kline_csv_by_header"

#: Binance's archive columns (data.binance.vision), the header of headerless files.
VISION_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)

#: Kline field -> header names that carry it (lower case, spaces and dashes as underscores), in
#: order of preference. ``volume_<asset>`` columns (CryptoDataDownload) are handled apart.
ALIASES: dict[str, tuple[str, ...]] = {
    "open_time": (
        "open_time", "opentime", "timestamp", "unix", "time", "ts", "open_timestamp",
        "start_time", "start", "date", "datetime", "open_datetime", "open_date",
    ),
    "close_time": ("close_time", "closetime", "close_datetime", "close_timestamp", "end_time"),
    "open": ("open", "o", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "close_price"),
    "volume": ("volume", "v", "base_volume", "volume_base", "base_asset_volume"),
    "quote_volume": (
        "quote_volume", "quote_asset_volume", "volume_quote", "quote_av", "qav", "turnover",
    ),
    "trade_count": ("count", "trades", "tradecount", "trade_count", "number_of_trades", "n"),
    "taker_buy_base": (
        "taker_buy_volume", "taker_buy_base_volume", "taker_buy_base_asset_volume", "tb_base_av",
    ),
    "taker_buy_quote": (
        "taker_buy_quote_volume", "taker_buy_quote_asset_volume", "tb_quote_av",
    ),
    "symbol": ("symbol", "ticker", "pair", "instrument", "market"),
    "interval": ("interval", "timeframe", "period", "resolution"),
}
REQUIRED = ("open", "high", "low", "close", "volume")
QUOTE_ASSETS = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")
_NUMBER = re.compile(r"^\s*-?\d+(\.\d*)?\s*$")
_INTERVAL_TOKEN = re.compile(r"^(\d+)([mhdw])$")
_SYMBOL_TOKEN = re.compile(r"^[A-Za-z0-9]{5,20}$")


#: trade-count cells that mean "not recorded" (CryptoDataDownload writes NULL in old rows)
_NO_COUNT = ("", "NULL", "null", "NaN", "nan")


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().strip('"').lower())


class Columns(NamedTuple):
    """Where each kline field is in a file's rows (``None``: the file lacks it)."""

    names: tuple[str, ...]  # the header as written
    at: dict[str, int]  # kline field -> column position
    headed: bool

    def name(self, field: str) -> str:
        return self.names[self.at[field]]


def map_header(names: list[str]) -> Columns | str:
    """The columns of a header, or why it is no candle header."""
    norm = [_norm(n) for n in names]
    index: dict[str, int] = {}
    taken: set[int] = set()
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in norm and norm.index(alias) not in taken:
                index[field] = norm.index(alias)
                taken.add(index[field])
                break
    # CryptoDataDownload: "Volume BTC", "Volume USDT" (base, then quote)
    per_asset = [i for i, n in enumerate(norm) if n.startswith("volume_") and i not in taken]
    if per_asset and "volume" not in index:
        index["volume"] = per_asset.pop(0)
    if per_asset and "quote_volume" not in index:
        index["quote_volume"] = per_asset.pop(0)
    missing = [f for f in REQUIRED if f not in index]
    if "open_time" not in index and "close_time" not in index:
        missing.insert(0, "open_time (or close_time)")
    if missing:
        return f"the header names no {', '.join(missing)} column"
    return Columns(tuple(n.strip() for n in names), index, True)


def vision_columns() -> Columns:
    cols = map_header(list(VISION_COLUMNS))
    assert isinstance(cols, Columns)
    return cols._replace(headed=False)


def _header_fields(first_line: bytes) -> list[str]:
    text = first_line.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []


# -- detection ------------------------------------------------------------------------------------

_HEADERLESS_VISION = re.compile(rb"^\d{13,16},[\d.]+,[\d.]+,[\d.]+,[\d.]+,[\d.]+,\d{13,16},")


def detect(path: Path, head: bytes) -> str | None:
    """The layout of a candle CSV, from its first line; ``None`` when it is none."""
    first = head.split(b"\n", 1)[0].strip()
    low = first.lower()
    if _HEADERLESS_VISION.match(first):
        return LAYOUT_VISION
    if b"," not in first or first[:1] in (b"{", b"["):
        return None
    if low.startswith(b"open_time,open,high,low,close,volume,close_time"):
        return LAYOUT_VISION
    if low == b"date,open,high,low,close,volume,ticker":
        return LAYOUT_TICKER
    if low.startswith(b"unix,date,symbol,open,high,low,close,volume"):
        return LAYOUT_CDD
    if low.startswith(b"open,high,low,close,volume,quote_volume,trades,close_datetime"):
        return LAYOUT_CLOSE_DT
    if isinstance(map_header(_header_fields(first)), Columns):
        return LAYOUT_HEADER
    return None


# -- values ---------------------------------------------------------------------------------------


def epoch_ms(value: float) -> int:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (by magnitude) as milliseconds."""
    a = abs(value)
    if a < 1e11:
        return int(round(value * 1000))  # seconds, possibly with a fraction ("1677628800.0")
    if a < 1e14:
        return int(value)
    if a < 1e17:
        return int(value) // 1000
    return int(value) // 1_000_000


def time_ms(text: str, column: str) -> int:
    """A time cell as epoch ms: epoch s/ms/µs, or ISO 8601 with or without an offset (UTC)."""
    t = text.strip().strip('"')
    if _NUMBER.match(t):
        return epoch_ms(float(t)) if "." in t else epoch_ms(int(t))
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise RecordRejected(
            "binance kline",
            f"column {column!r} is neither an epoch time nor an ISO 8601 time: {text!r}",
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def symbol_text(text: str) -> str:
    """``BTC/USDT``, ``btc-usdt``, ``BTCUSDT`` -> ``BTCUSDT``."""
    return re.sub(r"[/\-_\s]", "", text.strip().strip('"')).upper()


def interval_text(text: str) -> str:
    t = text.strip().strip('"')
    m = _INTERVAL_TOKEN.match(t.lower()) if t[-1:] != "M" else None
    return f"{m.group(1)}{m.group(2)}" if m else t


def name_parts(path: Path) -> tuple[str | None, str | None]:
    """(symbol, interval) the file name tells, e.g. ``Binance_BTCUSDT_1h.csv``."""
    stem = path.name
    for suffix in (".gz", ".csv", ".txt"):
        stem = stem.removesuffix(suffix)
    tokens = [t for t in re.split(r"[_\-.\s]+", stem) if t]
    interval = next(
        (interval_text(t) for t in tokens if t[-1:] != "M" and _INTERVAL_TOKEN.match(t.lower())),
        None,
    )
    symbol = next(
        (
            t.upper()
            for t in tokens
            if _SYMBOL_TOKEN.match(t)
            and not t.isdigit()
            and t.upper().endswith(QUOTE_ASSETS)
            and len(t) > 4
        ),
        None,
    )
    return symbol, interval


# -- the reader -----------------------------------------------------------------------------------


class _File(NamedTuple):
    cols: Columns
    layout: str
    symbol: str | None  # from the file name, when no column has it
    interval: str | None


def _plan(path: Path, data: bytes, layout: str) -> _File | Reject:
    first = data.split(b"\n", 1)[0].strip()
    if _HEADERLESS_VISION.match(first):
        cols: Columns | str = vision_columns()
    else:
        cols = map_header(_header_fields(first))
    if isinstance(cols, str):
        return Reject(f"not a candle CSV: {cols}", data[:4096], layout, path.name, KLINES)
    symbol, interval = name_parts(path)
    lacking = []
    if "symbol" not in cols.at and symbol is None:
        lacking.append("symbol")
    if "interval" not in cols.at and interval is None:
        lacking.append("interval")
    if lacking:
        return Reject(
            f"cannot tell the {' or the '.join(lacking)} of {path.name!r}: "
            + "; ".join(f"no {w} column and no {w} in the file name" for w in lacking)
            + " (name such files like BTCUSDT-1h-….csv)",
            data[:4096],
            layout,
            path.name,
            KLINES,
        )
    if interval is not None and interval not in INTERVAL_MS and "interval" not in cols.at:
        return Reject(
            f"unknown interval {interval!r} in the file name {path.name!r} "
            f"(known: {', '.join(INTERVAL_MS)})",
            data[:4096],
            layout,
            path.name,
            KLINES,
        )
    return _File(cols, layout, symbol, interval)


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for i, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield i, line


def _in(window: Window, t: int) -> bool:
    if window is None:
        return True
    lo, hi = window
    return (lo is None or t >= lo) and (hi is None or t < hi)


def _row(f: list[str], plan: _File, line: bytes, origin: str, now: int | None, window: Window) -> Record | Reject | None:
    cols, idx = plan.cols, plan.cols.at
    try:
        symbol = symbol_text(f[idx["symbol"]]) if "symbol" in idx else plan.symbol
        interval = interval_text(f[idx["interval"]]) if "interval" in idx else plan.interval
        assert symbol is not None and interval is not None
        step = INTERVAL_MS.get(interval)
        if step is None:
            raise RecordRejected(
                "binance kline",
                f"column {cols.name('interval')!r} holds an unknown interval {interval!r}",
            )
        close = time_ms(f[idx["close_time"]], cols.name("close_time")) if "close_time" in idx else None
        if "open_time" in idx:
            t = time_ms(f[idx["open_time"]], cols.name("open_time"))
        else:
            assert close is not None
            t = close - step + 1
        if close is not None and close > 10**14:
            close //= 1000  # should not happen (time_ms scales), kept for symmetry
        n = None
        if "trade_count" in idx:
            cell = f[idx["trade_count"]].strip()
            if cell not in _NO_COUNT:
                n = as_int(cell, cols.name("trade_count"), "binance kline")
    except RecordRejected as exc:
        return Reject(exc.reason, line, plan.layout, origin, KLINES)
    if not _in(window, t):
        return None

    def opt(field: str) -> str | None:
        return f[idx[field]] if field in idx else None

    return kline_record(
        Kline(
            symbol=symbol,
            interval=interval,
            open_ms=t,
            close_ms=close if close is not None else t + step - 1,
            open=f[idx["open"]],
            high=f[idx["high"]],
            low=f[idx["low"]],
            close=f[idx["close"]],
            volume=f[idx["volume"]],
            quote_volume=opt("quote_volume"),
            trade_count=n,
            taker_buy_base=opt("taker_buy_base"),
            taker_buy_quote=opt("taker_buy_quote"),
        ),
        raw=line,
        layout=plan.layout,
        origin=origin,
        now=now,
    )


def _split(line: bytes) -> list[str]:
    text = line.decode("utf-8", errors="replace")
    if '"' not in text:
        return text.split(",")
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return text.split(",")


def read_kline_csv(
    path: Path,
    data: bytes,
    now: int | None = None,
    window: Window = None,
    vector: bool = True,
    *,
    layout: str = LAYOUT_HEADER,
) -> Iterator[Record | Reject]:
    """Every kline of a candle CSV (any column order, extra columns ignored), or rejects."""
    plan = _plan(path, data, layout)
    if isinstance(plan, Reject):
        yield plan
        return
    fast = _vector_path(path, data, plan, window, now) if vector else None
    if fast is not None:
        yield from fast
        return
    width = len(plan.cols.names)
    for no, line in _lines(data):
        if no == 1 and plan.cols.headed:
            continue
        origin = f"{path.name}:{no}"
        f = _split(line)
        if len(f) != width:
            what = "the header" if plan.cols.headed else "Binance's kline archives"
            yield Reject(
                f"expected {width} comma-separated fields as in {what}, got {len(f)}",
                line,
                plan.layout,
                origin,
                KLINES,
            )
            continue
        item = _row(f, plan, line, origin, now, window)
        if item is not None:
            yield item


#: One reader per layout name: the same reader, each labelling its records with its layout.
read_vision = partial(read_kline_csv, layout=LAYOUT_VISION)
read_ticker_csv = partial(read_kline_csv, layout=LAYOUT_TICKER)
read_cdd = partial(read_kline_csv, layout=LAYOUT_CDD)
read_close_datetime_csv = partial(read_kline_csv, layout=LAYOUT_CLOSE_DT)

READERS: dict[str, Any] = {
    LAYOUT_VISION: read_vision,
    LAYOUT_TICKER: read_ticker_csv,
    LAYOUT_CDD: read_cdd,
    LAYOUT_CLOSE_DT: read_close_datetime_csv,
    LAYOUT_HEADER: read_kline_csv,
}


# -- the vectorised path --------------------------------------------------------------------------


def _vector_times(col: Any) -> Any | None:
    """An int64 epoch-ms array for a column of times, or ``None`` (let the rows decide)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(col)
    integers = pc.all(pc.match_substring_regex(trimmed, r"^-?\d+$")).as_py()
    if not integers and pc.all(pc.match_substring_regex(trimmed, r"^-?\d+(\.\d*)?$")).as_py():
        return _vector_decimal_times(trimmed)
    if integers:
        n = pc.cast(trimmed, pa.int64())
        lo, hi = pc.min(pc.abs(n)).as_py(), pc.max(pc.abs(n)).as_py()
        for low_bound, high_bound, scale in ((1e11, 1e14, 1), (1e14, 1e17, 1000)):
            if low_bound <= lo and hi < high_bound:
                return n if scale == 1 else pc.divide(n, scale)
        if hi < 1e11:
            return pc.multiply(n, 1000)
        return None
    if not pc.all(pc.match_substring_regex(trimmed, r"^\d{4}-\d\d-\d\d[T ]")).as_py():
        return None
    offsets = pc.any(pc.match_substring_regex(trimmed, r"(Z|[+-]\d\d:?\d\d)$")).as_py()
    # naive times are UTC; with offsets every cell must carry one (else: the rows decide)
    for target in (pa.timestamp("us", tz="UTC"),) if offsets else (pa.timestamp("us"),):
        try:
            us = pc.cast(pc.cast(trimmed, target), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return pc.divide(us, 1000)
    return None


def _vector_decimal_times(trimmed: Any) -> Any | None:
    """Epoch times some of which have a fraction (``1605855600.0``), each scaled by its own
    magnitude exactly as :func:`epoch_ms` scales one cell; ``None`` where float64 would not hold
    every value exactly (nanoseconds: the rows decide)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    v = pc.cast(trimmed, pa.float64())
    a = pc.abs(v)
    if pc.max(a).as_py() >= 1e17:
        return None
    seconds = pc.round(pc.multiply(v, 1000.0), round_mode="half_to_even")  # int(round(v * 1000))
    millis = pc.trunc(v)  # int(v)
    micros = pc.floor(pc.divide(pc.trunc(v), 1000.0))  # int(v) // 1000
    ms = pc.if_else(pc.less(a, 1e11), seconds, pc.if_else(pc.less(a, 1e14), millis, micros))
    return pc.cast(ms, pa.int64())


def _vector_counts(col: Any) -> Any:
    """Trade counts as int64, the empty / NULL / NaN cells the row-wise parser skips as nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(col)
    missing = pc.is_in(trimmed, value_set=pa.array(list(_NO_COUNT), pa.string()))
    return pc.cast(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed), pa.int64())


def _vector_path(path: Path, data: bytes, plan: _File, window: Window, now: int | None) -> list[Record | Reject] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cryptolake.ingest.binance import _vector

    cols, idx = plan.cols, plan.cols.at
    if not cols.headed:
        return None  # headerless archives: the row-wise parser
    names = [f"c{i}" for i in range(len(cols.names))]
    table = _vector.read_table(data, names)
    if table is None or table.num_rows == 0:
        return None

    def col(field: str) -> Any:
        return table[names[idx[field]]]

    if "interval" in idx:
        values = pc.unique(pc.utf8_trim_whitespace(col("interval"))).to_pylist()
        if len(values) != 1 or interval_text(values[0]) not in INTERVAL_MS:
            return None
        interval = interval_text(values[0])
    else:
        assert plan.interval is not None
        interval = plan.interval
    step = INTERVAL_MS[interval]
    try:
        close = _vector_times(col("close_time")) if "close_time" in idx else None
        if "close_time" in idx and close is None:
            return None
        if "open_time" in idx:
            t = _vector_times(col("open_time"))
            if t is None:
                return None
        else:
            t = pc.subtract(close, step - 1)
        n = None
        if "trade_count" in idx:
            n = _vector_counts(col("trade_count"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if "symbol" in idx:
        raw_symbols = pc.utf8_trim_whitespace(col("symbol"))
        normalised = pc.utf8_upper(pc.replace_substring_regex(raw_symbols, r"[/\-_\s]", ""))
        symbol: Any = normalised
    else:
        assert plan.symbol is not None
        symbol = plan.symbol

    def name(field: str) -> str | None:
        return names[idx[field]] if field in idx else None

    prices = tuple(names[idx[f]] for f in REQUIRED)
    extras = (name("quote_volume"), name("taker_buy_base"), name("taker_buy_quote"), None)
    return _vector.klines(
        table,
        symbol=symbol,
        interval=interval,
        t=t,
        close=close if close is not None else pc.add(t, step - 1),
        prices=prices,  # type: ignore[arg-type]
        extras=extras,
        n=n,
        topic=TOPICS[interval],
        layout=plan.layout,
        origin_name=path.name,
        window=window,
        now=now,
        slow_row=_slow_row(path, data, plan, now),
    )


def _slow_row(path: Path, data: bytes, plan: _File, now: int | None) -> Any:
    """Re-read single lines row-wise (for rows the vector checks refused), with their reasons."""
    lines: list[bytes] = []  # split on the first refused row only: most files have none

    def row(no: int, _: dict[str, Any]) -> Record | Reject:
        if not lines:
            lines.extend(data.splitlines())
        line = lines[no - 1]
        origin = f"{path.name}:{no}"
        item = _row(_split(line), plan, line, origin, now, None)
        assert item is not None
        return item

    return row
