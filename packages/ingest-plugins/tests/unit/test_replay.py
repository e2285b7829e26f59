"""Replay without services: layouts detected through the hook, event order, determinism."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptolake.core import PluginManifest, build_plugin_manager, hookimpl
from cryptolake.core.settings import Settings
from cryptolake.ingest._records import Record, Reject, dumps
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.binance import plugin as binance_plugin
from cryptolake.ingest.coingecko import plugin as coingecko_plugin
from cryptolake.ingest.feargreed import plugin as feargreed_plugin
from cryptolake.ingest.replay import plugin as replay_plugin
from cryptolake.ingest.replay.config import SAMPLE_DIR, ReplayConfig
from cryptolake.ingest.replay.jobs import load

SHARED = Path("/work/shared/data")


#: the built-in plugins, registered explicitly (the tests need not run from an installed package)
BUILTINS = [binance_plugin, coingecko_plugin, feargreed_plugin, replay_plugin]


@pytest.fixture
def host(tmp_path: Path):
    return build_plugin_manager(
        Settings(home=tmp_path), autoload=False, strict=True, plugins=BUILTINS
    )


def test_every_sample_file_is_recognised_and_parsed_without_rejects(host) -> None:
    merged, rejects, files = load(host, ReplayConfig())
    assert not rejects
    assert all(f["layout"] for f in files.values()), files
    assert {f["layout"] for f in files.values()} == {
        "binance_kline_csv_12col",
        "binance_kline_csv_ohlcv_ticker",
        "cdd_kline_csv",
        "binance_kline_csv_close_datetime",
        "binance_rest_klines_json",
        "cryptofeed_ws_capture",
        "coingecko_market_chart_json",
        "coingecko_markets_json",
        "feargreed_json",
    }
    assert len(merged) == 8986
    times = [m[0] for m in merged]
    assert times == sorted(times)  # one event-time order across files (the CDD file is descending)


def test_replay_order_is_deterministic_and_the_window_filters(host) -> None:
    a, _, _ = load(host, ReplayConfig())
    b, _, _ = load(host, ReplayConfig())
    assert [r.payload for *_, r in a] == [r.payload for *_, r in b]
    lo, hi = 1679616000000, 1679702400000  # 2023-03-24, the day of the real outage
    day, _, _ = load(host, ReplayConfig(include=["binance/klines_1h/*"]), start_ms=lo, end_ms=hi)
    assert len(day) == 7 * 23 and all(lo <= m[0] < hi for m in day)


def test_a_fraction_keeps_the_start_of_every_files_span_and_the_newest_day_splits(host) -> None:
    _, _, whole = load(host, ReplayConfig())
    full, _, _ = load(host, ReplayConfig())
    quarter, _, files = load(host, ReplayConfig(fraction=0.25))
    assert set(files) == set(whole)  # every file and feed keeps a part, none is left out
    assert 0 < len(quarter) < len(full) / 2
    # per file: the records kept are those in the first quarter of that file's own time span
    by_file: dict[int, list[int]] = {}
    for t, fi, _, _ in full:
        by_file.setdefault(fi, []).append(t)
    for t, fi, _, _ in quarter:
        first, last = min(by_file[fi]), max(by_file[fi])
        assert t <= first + 0.25 * (last - first)
    assert load(host, ReplayConfig(fraction=0.25))[0] == quarter  # deterministic
    before, _, _ = load(host, ReplayConfig(newest_day="exclude"))
    day, _, _ = load(host, ReplayConfig(newest_day="only"))
    assert sorted([*before, *day]) == full  # the two parts make the whole, without overlap
    assert 0 < len(day) < len(before)
    for t, fi, _, _ in day:
        assert t > max(by_file[fi]) - 86_400_000
        assert max(by_file[fi]) - min(by_file[fi]) > 86_400_000  # a capture is no new day


def test_sample_provenance_hashes_match_the_files() -> None:
    prov = json.loads((SAMPLE_DIR / "PROVENANCE.json").read_text())
    assert len(prov["files"]) == 26
    total = 0
    for entry in prov["files"]:
        path = SAMPLE_DIR / entry["file"]
        data = path.read_bytes()
        total += len(data)
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
    assert total < 3_000_000
    readme = SHARED / "README.md"
    if readme.exists():  # the origin data set is optional; when present, the origins must match
        listed = readme.read_text()
        for entry in prov["files"]:
            assert f"{entry['origin_sha256']}  {entry['origin']}" in listed, entry["origin"]


# -- a third party teaching replay a layout ---------------------------------------------------------


def read_pipe_klines(path: Path, data: bytes) -> Iterator[Record | Reject]:
    """``SYMBOL|open ms|o|h|l|c|v`` lines: a layout no built-in plugin knows."""
    for no, line in enumerate(data.splitlines(), start=1):
        s, t, o, h, low, c, v = line.decode().split("|")
        event = {
            "e": "kline",
            "s": s,
            "k": {
                "t": int(t),
                "s": s,
                "i": "1m",
                "o": o,
                "h": h,
                "l": low,
                "c": c,
                "v": v,
                "x": True,
            },
        }
        try:
            yield binance.event_record(
                event, dumps(event), layout="pipe", origin=f"{path.name}:{no}"
            )
        except Exception as exc:
            yield Reject(str(exc), line, "pipe", f"{path.name}:{no}")


class PipeLayoutPlugin:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="pipe_layout", version="1.0")

    @staticmethod
    @hookimpl
    def cryptolake_detect_layout(path: Path, head: bytes) -> str | None:
        return f"{__name__}:read_pipe_klines" if path.suffix == ".pipe" else None


def test_a_third_party_layout_and_an_unknown_file(tmp_path: Path) -> None:
    host = build_plugin_manager(
        Settings(home=tmp_path),
        autoload=False,
        strict=True,
        plugins=[*BUILTINS, PipeLayoutPlugin()],
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.pipe").write_text(
        "BTCUSDT|1677628800000|1|2|0.5|1.5|10\nBTCUSDT|1677628860000|1|0.5|2|1|1\n"
    )
    (data / "notes.bin").write_bytes(b"\x00\x01 nobody knows this")
    shutil.copy(SAMPLE_DIR / "feargreed/fear_greed.json", data / "fear_greed.json")
    merged, rejects, files = load(host, ReplayConfig(data_dir=data))
    assert files["x.pipe"]["layout"].endswith(":read_pipe_klines")
    assert [r.origin for *_, r in merged if r.layout == "pipe"] == ["x.pipe:1"]
    reasons = {r.origin: r.reason for r in rejects}
    assert "below low" in reasons["x.pipe:2"]
    assert reasons["notes.bin"].startswith("unknown layout")
    assert sum(1 for *_, r in merged if r.feed == "fear_greed") == 28
