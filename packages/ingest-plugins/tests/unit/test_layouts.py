"""Real layouts a user brings: candle CSVs by header, any coin's chart, the bare F&G array."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core import build_plugin_manager
from cryptolake.core.settings import Settings
from cryptolake.ingest._records import Record, Reject
from cryptolake.ingest.binance import csv_layouts
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.coingecko import parse as coingecko
from cryptolake.ingest.feargreed import parse as feargreed
from cryptolake.ingest.replay import layouts
from cryptolake.ingest.replay.config import ReplayConfig
from cryptolake.ingest.replay.jobs import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "layouts"


@pytest.fixture
def host(tmp_path: Path) -> Any:
    from cryptolake.ingest.binance import plugin as b
    from cryptolake.ingest.coingecko import plugin as c
    from cryptolake.ingest.feargreed import plugin as f
    from cryptolake.ingest.replay import plugin as r

    return build_plugin_manager(
        Settings(home=tmp_path), autoload=False, strict=True, plugins=[b, c, f, r]
    )


def read(name: str) -> tuple[list[Record], list[Reject], str | None]:
    path = FIXTURES / name
    data = path.read_bytes()
    layout = binance.detect(path, data[:4096])
    if layout is None:
        return [], [], None
    items = list(binance.READERS[layout](path, data))
    return (
        [i for i in items if isinstance(i, Record)],
        [i for i in items if isinstance(i, Reject)],
        layout,
    )


def rows(recs: list[Record]) -> list[dict[str, Any]]:
    return [r.bronze_row() for r in recs]


def test_symbol_interval_columns_and_iso_times_with_an_offset() -> None:
    recs, rejects, layout = read("exchange_export_btc_eth.csv")
    assert layout == binance.LAYOUT_HEADER and not rejects
    got = rows(recs)
    assert [(r["symbol"], r["open_time"]) for r in got] == [
        ("BTCUSDT", datetime(2024, 5, 1, 0, tzinfo=UTC)),  # 02:00+02:00
        ("ETHUSDT", datetime(2024, 5, 1, 0, tzinfo=UTC)),
        ("BTCUSDT", datetime(2024, 5, 1, 1, tzinfo=UTC)),
        ("ETHUSDT", datetime(2024, 5, 1, 1, tzinfo=UTC)),
    ]
    btc = got[0]
    assert btc["interval"] == "1h" and btc["open"] == "60672.00" and btc["trade_count"] == 61033
    assert btc["quote_volume"] == "93012411.77"
    assert btc["close_time"] == datetime(2024, 5, 1, 0, 59, 59, 999000, tzinfo=UTC)


def test_a_one_minute_file_with_naive_utc_times_takes_symbol_and_interval_from_its_name() -> None:
    recs, rejects, layout = read("ETHUSDT-1m-2024-05-01.csv")
    assert layout == binance.LAYOUT_HEADER and not rejects and len(recs) == 3
    assert {(r["symbol"], r["interval"]) for r in rows(recs)} == {("ETHUSDT", "1m")}
    assert rows(recs)[1]["open_time"] == datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    assert rows(recs)[1]["quote_volume"] is None  # absent, not invented


def test_binance_columns_plus_extras_take_the_symbol_from_the_column() -> None:
    # before: detected as the 12-column layout, whose reader raised on the file name
    recs, rejects, layout = read("klines_with_extras.csv")
    assert layout == binance.LAYOUT_HEADER and not rejects and len(recs) == 2
    r = rows(recs)[0]
    assert (r["symbol"], r["interval"], r["trade_count"]) == ("XRPUSDT", "1h", 20188)
    assert r["taker_buy_base_volume"] == "9877001" and r["taker_buy_quote_volume"] == "5143002.6"
    assert r["close_time"] == datetime.fromtimestamp(1714525199.999, UTC)


def test_epoch_seconds_and_reordered_columns() -> None:
    recs, rejects, _ = read("SOLUSDT_1h_epoch_seconds.csv")
    assert not rejects
    r = rows(recs)[0]
    assert r["open_time"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert (r["open"], r["high"], r["low"], r["close"]) == ("135.40", "135.77", "134.12", "134.91")


def test_headerless_archives_with_microsecond_times() -> None:
    recs, rejects, layout = read("BNBUSDT-1h-micros.csv")
    assert layout == binance.LAYOUT_VISION and not rejects
    assert rows(recs)[0]["open_time"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert rows(recs)[0]["close_time"] == datetime(2025, 1, 1, 0, 59, 59, 999000, tzinfo=UTC)


def test_a_file_that_names_no_symbol_is_one_clear_reject() -> None:
    recs, rejects, _ = read("candles_without_symbol.csv")
    assert not recs and len(rejects) == 1
    assert "cannot tell the symbol" in rejects[0].reason and "no symbol column" in rejects[0].reason


@pytest.mark.parametrize(
    ("cell", "ms"),
    [
        ("1714521600", 1714521600000),
        ("1714521600.0", 1714521600000),
        ("1714521600000", 1714521600000),
        ("1714521600000000", 1714521600000),
        ("2024-05-01T00:00:00Z", 1714521600000),
        ("2024-05-01 02:00:00+02:00", 1714521600000),
        ("2024-05-01T00:00:00.250", 1714521600250),
        ("2024-05-01", 1714521600000),
    ],
)
def test_time_cells(cell: str, ms: int) -> None:
    assert csv_layouts.time_ms(cell, "timestamp") == ms


def test_a_bad_time_names_its_column() -> None:
    data = b"timestamp,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,10\n"
    (rej,) = binance.read_kline_csv(Path("BTCUSDT_1h.csv"), data)
    assert isinstance(rej, Reject)
    assert rej.reason == "column 'timestamp' is neither an epoch time nor an ISO 8601 time: 'yesterday'"


def test_field_count_messages_match_their_checks() -> None:
    data = b"open_time,open,high,low,close,volume\n1714521600000,1,2,0.5\n"
    (rej,) = binance.read_kline_csv(Path("BTCUSDT_1h.csv"), data)
    assert isinstance(rej, Reject)
    assert rej.reason == "expected 6 comma-separated fields as in the header, got 4"
    (rej,) = binance.read_vision(Path("BTCUSDT-1h-2024-05.csv"), b"1714521600000,1,2,0.5,1.5,10,1714525199999,3\n")
    assert isinstance(rej, Reject)
    assert rej.reason == "expected 12 comma-separated fields as in Binance's kline archives, got 8"


def test_coingecko_market_chart_of_any_coin_named_by_its_file() -> None:
    path = FIXTURES / "coingecko" / "polkadot.json"
    data = path.read_bytes()
    assert coingecko.detect(path, data) == coingecko.LAYOUT_CHART
    items = list(coingecko.read_market_chart(path, data))
    recs = [i for i in items if isinstance(i, Record)]
    assert len(recs) == len(items) == 3
    assert {i.key for i in recs} == {"polkadot"}
    assert coingecko.coin_from_file_name("bitcoin_chart.json") == "bitcoin"
    assert coingecko.coin_from_file_name("Not A Coin!.json") is None


def test_fear_and_greed_as_a_bare_array() -> None:
    path = FIXTURES / "feargreed" / "fng_history.json"
    data = path.read_bytes()
    assert feargreed.detect(path, data) == feargreed.LAYOUT
    items = list(feargreed.read(path, data))
    assert [i.bronze_row()["value"] for i in items if isinstance(i, Record)] == [67, 61, 64]


def test_the_replay_reads_every_fixture_and_goes_on_after_a_reader_raises(
    host: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURES, data_dir)
    (data_dir / "broken.csv.gz").write_bytes(b"\x1f\x8b not really gzip")

    def explode(path: Path, data: bytes) -> Any:
        raise ZeroDivisionError("a reader bug")

    monkeypatch.setitem(layouts.BUILTIN_READERS, feargreed.LAYOUT, explode)
    merged, rejects, files = load(host, ReplayConfig(data_dir=data_dir))
    reasons = {r.origin: r.reason for r in rejects}
    assert "ZeroDivisionError: a reader bug" in reasons["feargreed/fng_history.json"]
    assert "cannot read the file" in reasons["broken.csv.gz"]
    assert "cannot tell the symbol" in reasons["candles_without_symbol.csv"]
    by_key: dict[str, int] = {}
    for *_, rec in merged:
        by_key[rec.key] = by_key.get(rec.key, 0) + 1
    assert by_key == {
        "BTCUSDT": 2, "ETHUSDT": 5, "XRPUSDT": 2, "SOLUSDT": 2, "BNBUSDT": 2, "polkadot": 3,
    }
    assert files["klines_with_extras.csv"]["layout"] == binance.LAYOUT_HEADER
    json.dumps(files)  # the per-file figures stay serialisable


@pytest.mark.parametrize(
    "name",
    [
        "exchange_export_btc_eth.csv",
        "ETHUSDT-1m-2024-05-01.csv",
        "klines_with_extras.csv",
        "SOLUSDT_1h_epoch_seconds.csv",
    ],
)
def test_vectorised_and_row_wise_paths_agree_on_every_fixture(name: str) -> None:
    path = FIXTURES / name
    data = path.read_bytes()
    fast = list(binance.read_kline_csv(path, data))
    slow = list(binance.read_kline_csv(path, data, vector=False))
    assert [(type(i), getattr(i, "payload", None), i.origin) for i in fast] == [
        (type(i), getattr(i, "payload", None), i.origin) for i in slow
    ]
