"""Cut the bundled replay sample out of the shared data set, byte-exact, and write its provenance.

    python packages/ingest-plugins/scripts/cut_sample.py [/work/shared/data]

Every sample file keeps whole lines (CSV, pretty-printed JSON) or whole array elements (compact
JSON) of one origin file; PROVENANCE.json records the origin path, the origin's SHA-256, the rows
or elements kept, the exact wrapping added, and the sample file's own SHA-256 (of its
uncompressed bytes). Re-running the script reproduces the sample bit for bit (gzip mtime 0).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

WINDOW = (datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 3, 29, tzinfo=UTC))  # [start, end)
START_MS = int(WINDOW[0].timestamp() * 1000)
END_MS = int(WINDOW[1].timestamp() * 1000)
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT")
REST_1D = ("btc", "eth", "sol", "bnb", "xrp", "ada", "doge")
CG_COINS = ("bitcoin", "ethereum", "binancecoin", "cardano", "ripple")
OUT = Path(__file__).resolve().parents[1] / "src/cryptolake/ingest/replay/sample"

_ELEMENT = re.compile(rb"\[(-?\d+(?:\.\d+)?), ?[^\[\]]*\]")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(rel: str, data: bytes, *, gz: bool) -> tuple[str, str]:
    path = OUT / (rel + (".gz" if gz else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        path.write_bytes(data)
    return str(path.relative_to(OUT)), sha(data)


def lines_where(data: bytes, keep: callable, header: bool = True) -> tuple[bytes, list[int]]:
    lines = data.splitlines(keepends=True)
    kept_idx = [i for i, ln in enumerate(lines) if (header and i == 0) or (i > 0 and keep(ln))]
    return b"".join(lines[i] for i in kept_idx), [i + 1 for i in kept_idx]


def ranges(numbers: list[int]) -> str:
    out, start, prev = [], None, None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(out)


def elements_in_window(body: bytes) -> tuple[bytes, int, int]:
    """The byte range of the consecutive array elements whose first number is in the window."""
    hits = [m for m in _ELEMENT.finditer(body) if START_MS <= float(m.group(1)) < END_MS]
    if not hits:
        raise SystemExit("no element in the window")
    a, b = hits[0].start(), hits[-1].end()
    return body[a:b], a, b


def main(root: Path) -> None:
    if OUT.exists():
        for p in sorted(OUT.rglob("*"), reverse=True):
            if p.is_file() and p.name != "README.md":
                p.unlink()
    entries = []

    def record(rel_origin: str, origin: bytes, out_rel: str, out_sha: str, selection: str) -> None:
        entries.append(
            {
                "file": out_rel,
                "sha256": out_sha,
                "origin": rel_origin,
                "origin_sha256": sha(origin),
                "selection": selection,
            }
        )

    day0, day1 = WINDOW[0].strftime("%Y-%m-%d"), WINDOW[1].strftime("%Y-%m-%d")
    for sym in SYMBOLS:
        rel = f"binance/klines_1h/{sym}_1h.csv"
        src = (root / rel).read_bytes()
        cut, idx = lines_where(src, lambda ln: day0.encode() <= ln[:10] < day1.encode())
        name, digest = write(rel, cut, gz=True)
        record(rel, src, name, digest, f"lines {ranges(idx)} (header + bars {day0} .. < {day1})")

    rel = "binance/klines_1h_vision_12col/BTCUSDT-1h-2023-03.csv"
    src = (root / rel).read_bytes()
    cut, idx = lines_where(src, lambda ln: START_MS <= int(ln.split(b",")[0]) < END_MS)
    name, digest = write(rel, cut, gz=True)
    record(rel, src, name, digest, f"lines {ranges(idx)} (header + bars {day0} .. < {day1})")

    rel = "binance/klines_1h_cryptodatadownload/Binance_BTCUSDT_1h.csv"
    src = (root / rel).read_bytes()
    keep = {1, *range(4800, 4901)}
    lines = src.splitlines(keepends=True)
    cut = b"".join(lines[i - 1] for i in sorted(keep))
    name, digest = write(rel, cut, gz=False)
    record(
        rel,
        src,
        name,
        digest,
        "lines 1,4800-4900 (header + the seam of the two concatenated CDD exports: epoch-ms and "
        "epoch-seconds rows interleaved, 12-hour dates, duplicated hours, descending)",
    )

    rel = "binance/klines_1m/BTCUSDT_1m.csv"
    src = (root / rel).read_bytes()
    cut, idx = lines_where(src, lambda ln: True)
    cut = b"".join(src.splitlines(keepends=True)[: 1 + 2 * 1440])
    name, digest = write(rel, cut, gz=True)
    record(rel, src, name, digest, "lines 1-2881 (header + the first 2,880 one-minute bars)")

    for coin in REST_1D:
        rel = f"binance/klines_1d_rest_json/{coin}-1d.json"
        src = (root / rel).read_bytes()
        body, a, b = elements_in_window(src)
        name, digest = write(rel, b"[" + body + b"]", gz=False)
        record(
            rel,
            src,
            name,
            digest,
            f"bytes {a}..{b} (the 12-field kline arrays opening {day0} .. < {day1}), "
            "wrapped in '[' and ']'",
        )

    for coin in CG_COINS:
        rel = f"coingecko/market_chart_5y_daily/{coin}.json"
        src = (root / rel).read_bytes()
        parts, where = [], []
        for key in (b"prices", b"market_caps", b"total_volumes"):
            start = src.index(b'"' + key + b'": [') + len(key) + 5
            end = src.index(b"]]", start) + 1
            body, a, b = elements_in_window(src[start:end])
            parts.append(b'"' + key + b'": [' + body + b"]")
            where.append(f"{key.decode()} bytes {start + a}..{start + b}")
        name, digest = write(rel, b"{" + b", ".join(parts) + b"}", gz=False)
        record(
            rel,
            src,
            name,
            digest,
            "; ".join(where) + f" (points {day0} .. < {day1}), re-wrapped as "
            '{"prices": [...], "market_caps": [...], "total_volumes": [...]}',
        )

    for rel in (
        "coingecko/cryptosphere_2023-10/coins.json",
        "coingecko/cryptosphere_2023-10/bitcoin_chart.json",
        "websocket/cryptofeed_binance_2021-10-11/BINANCE.ws.1.0",
    ):
        src = (root / rel).read_bytes()
        name, digest = write(rel, src, gz=False)
        record(rel, src, name, digest, "whole file")

    rel = "feargreed/fear_greed.json"
    src = (root / rel).read_bytes()
    lines = src.splitlines(keepends=True)
    # elements are 6 lines ("\t\t{" .. "\t\t},"), except the first (7, with time_until_update)
    starts = [i for i, ln in enumerate(lines) if ln.rstrip(b"\r\n") == b"\t\t{"]
    keep: list[int] = []
    for s in starts:
        end = s
        while not lines[end].lstrip().startswith(b"}"):
            end += 1
        ts = next(int(ln.split(b'"')[3]) for ln in lines[s:end] if b'"timestamp"' in ln)
        if START_MS // 1000 <= ts < END_MS // 1000:
            keep.extend(range(s, end + 1))
    head = list(range(0, starts[0]))
    tail = [i for i, ln in enumerate(lines) if i > starts[-1] and ln.startswith(b"\t]")]
    tail = list(range(tail[0], len(lines)))
    body = [lines[i] for i in keep]
    body[-1] = body[-1].replace(b"},", b"}", 1)
    cut = b"".join([*(lines[i] for i in head), *body, *(lines[i] for i in tail)])
    json.loads(cut)
    name, digest = write(rel, cut, gz=False)
    record(
        rel,
        src,
        name,
        digest,
        f"lines {ranges([i + 1 for i in (*head, *keep, *tail)])} (days {day0} .. < {day1}); "
        "the trailing comma of the last kept element removed",
    )

    manifest = {
        "description": "CryptoLake replay sample: real public market data cut byte-exact from the "
        "shared development data set (see the origin data set's README for each file's source "
        "repository, commit and licence).",
        "window": [WINDOW[0].isoformat(), WINDOW[1].isoformat()],
        "symbols": list(SYMBOLS),
        "files": entries,
    }
    (OUT / "PROVENANCE.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(entries)} files, {total / 1e6:.2f} MB, into {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
