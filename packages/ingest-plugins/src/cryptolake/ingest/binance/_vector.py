"""Vectorised (pyarrow) parsing of the large recorded kline CSV layouts.

Same checks and the same Kafka values as :func:`cryptolake.ingest.binance.kline.kline_record`, done
column-wise in Arrow: rows that fail any check are re-read row-wise one by one, so their
rejects carry the same reasons. A file the vector path cannot map row-for-row to line numbers
(quotes, blank lines, CR, rows with the wrong field count) returns ``None`` and is parsed by the
row-wise parser instead. A unit test holds both paths to byte-identical output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import repeat
from typing import Any

from cryptolake.ingest._records import FUTURE_TOLERANCE_MS, Record, Reject, now_ms

_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")
MIN_MS = 1_230_768_000_000


def read_table(data: bytes, names: list[str]) -> Any | None:
    """All columns as strings, the header skipped; ``None`` when rows would not map to lines."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if b'"' in data or b"\r" in data or b"\n\n" in data:
        return None
    bad = []

    def invalid(row: Any) -> str:
        bad.append(row)
        return "skip"

    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(invalid_row_handler=invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return None if bad else table


def klines(
    table: Any,
    *,
    symbol: Any,
    interval: str,
    t: Any,
    close: Any | None,
    prices: tuple[str, str, str, str, str],
    extras: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None),
    n: Any | None = None,
    topic: str,
    layout: str,
    origin_name: str,
    window: tuple[int | None, int | None] | None,
    now: int | None,
    slow_row: Callable[[int, dict[str, Any]], Record | Reject],
) -> list[Record | Reject] | None:
    """Records for ``table`` (row i = line i + 2). ``prices`` / ``extras`` name the o, h, l, c, v
    and q, V, Q, (unused) string columns; ``t`` / ``close`` / ``n`` are int64 arrays or None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pa.array(range(2, table.num_rows + 2), pa.int64())
    cols: dict[str, Any] = {"_line": lines, "_t": t}
    if close is not None:
        cols["_close"] = close
    if n is not None:
        cols["_n"] = n
    if isinstance(symbol, str):
        cols["_sym"] = pa.array([symbol] * table.num_rows, pa.string())
    else:
        cols["_sym"] = pc.utf8_trim_whitespace(symbol)
    for name in table.column_names:
        cols[name] = table.column(name)
    tbl = pa.table(cols)
    if window is not None:
        lo, hi = window
        keep = pc.is_valid(tbl["_t"])
        inside = pa.array([True] * tbl.num_rows)
        if lo is not None:
            inside = pc.and_(inside, pc.greater_equal(tbl["_t"], lo))
        if hi is not None:
            inside = pc.and_(inside, pc.less(tbl["_t"], hi))
        tbl = tbl.filter(pc.or_(pc.invert(keep), pc.fill_null(inside, False)))
    if tbl.num_rows == 0:
        return []
    try:
        trimmed = {c: pc.utf8_trim_whitespace(tbl[c]) for c in (*prices, *[e for e in extras if e])}
        f = {c: pc.cast(v, pa.float64()) for c, v in trimmed.items()}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # some value is not a number: let the row-wise parser name it
    o, h, lo_, c, v = prices
    inf = float("inf")
    ok = pc.is_valid(tbl["_t"])
    limit = (now if now is not None else now_ms()) + FUTURE_TOLERANCE_MS
    ok = pc.and_(ok, pc.greater_equal(tbl["_t"], MIN_MS))
    ok = pc.and_(ok, pc.less_equal(tbl["_t"], limit))
    if close is not None:
        from cryptolake.ingest.binance.events import INTERVAL_MS

        ok = pc.and_(ok, pc.greater_equal(tbl["_close"], tbl["_t"]))
        ok = pc.and_(ok, pc.less(tbl["_close"], pc.add(tbl["_t"], 2 * INTERVAL_MS[interval])))
    for col in (o, h, lo_, c):
        ok = pc.and_(ok, pc.and_(pc.greater(f[col], 0.0), pc.less(f[col], inf)))
    for col in (v, *[e for e in extras if e]):
        ok = pc.and_(ok, pc.and_(pc.greater_equal(f[col], 0.0), pc.less(f[col], inf)))
    ok = pc.and_(ok, pc.greater_equal(f[h], f[lo_]))
    if n is not None:  # a null count is a count not recorded, as in the row-wise parser
        ok = pc.and_(ok, pc.or_kleene(pc.is_null(tbl["_n"]), pc.greater_equal(tbl["_n"], 0)))
    for col in (*prices, *[e for e in extras if e]):
        ok = pc.and_(ok, pc.invert(pc.match_substring(trimmed[col], "_")))
    symbols = pc.unique(tbl["_sym"]).to_pylist()
    good_symbols = [
        s for s in symbols if isinstance(s, str) and _SYMBOL.match(s.upper()) and s == s.upper()
    ]
    ok = pc.and_(ok, pc.is_in(tbl["_sym"], value_set=pa.array(good_symbols, pa.string())))
    ok = pc.fill_null(ok, False)

    good = tbl.filter(ok)
    sym = good["_sym"]
    text = {col: values.filter(ok) for col, values in trimmed.items()}  # trimmed once, above
    parts: list[Any] = ['{"e":"kline","s":"', sym, '","k":{"t":', pc.cast(good["_t"], pa.string())]
    if close is not None:
        parts += [',"T":', pc.cast(good["_close"], pa.string())]
    parts += [
        ',"s":"',
        sym,
        f'","i":"{interval}","o":"',
        text[o],
        '","c":"',
        text[c],
        '","h":"',
        text[h],
        '","l":"',
        text[lo_],
        '","v":"',
        text[v],
        '"',
    ]
    if n is not None:  # "n" is left out where the count is null
        joined = pc.binary_join_element_wise(',"n":', pc.cast(good["_n"], pa.string()), "")
        parts += [pc.fill_null(joined, "")]
    for key, extra in zip(("q", "V", "Q"), extras[:3], strict=True):
        if extra:
            parts += [f',"{key}":"', text[extra], '"']
    parts += [',"x":true}}', ""]
    payloads = pc.cast(pc.binary_join_element_wise(*parts), pa.binary()).to_pylist()
    line_nos = good["_line"]
    origins = pc.binary_join_element_wise(f"{origin_name}:", pc.cast(line_nos, pa.string()), "")
    # one C-level pass builds the records (a Python loop here cost ~3 us a record)
    records = map(
        Record,
        repeat("binance_klines"),
        sym.to_pylist(),
        good["_t"].to_pylist(),
        repeat(None),
        payloads,
        repeat(layout),
        origins.to_pylist(),
        repeat(topic),
    )
    bad = tbl.filter(pc.invert(ok))
    if not bad.num_rows:
        return list(records)
    out: list[tuple[int, Record | Reject]] = list(zip(line_nos.to_pylist(), records, strict=True))
    for row in bad.to_pylist():
        out.append((row["_line"], slow_row(row["_line"], row)))
    out.sort(key=lambda x: x[0])
    return [item for _, item in out]
