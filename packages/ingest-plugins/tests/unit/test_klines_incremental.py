"""Incremental ``binance.klines``: the still-open candle stored last time is fetched again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cryptolake.core import JobContext, Settings, build_plugin_manager
from cryptolake.ingest.binance import jobs, parse
from cryptolake.ingest.binance.config import KlinesConfig

T0 = datetime(2024, 11, 30, 23, 0, tzinfo=UTC)


class FakeWriter:
    """Answers ``last_time`` like the Bronze writer (newest event time matching the filter)."""

    outcomes: dict[str, Any] = {}

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def last_time(self, feed: str, **equals: Any) -> datetime | None:
        assert feed == parse.KLINES
        times = [r["open_time"] for r in self.rows
                 if all(r.get(k) == v for k, v in equals.items())]
        return max(times) if times else None

    def add(self, item: Any) -> None: ...

    def reject(self, item: Any) -> None: ...

    def flush(self) -> None: ...


def _run(rows: list[dict[str, Any]], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    asked: list[int] = []

    def fetch(http: Any, symbol: str, interval: str, start_ms: int, end_ms: int,
              limit: int) -> Iterator[Any]:
        asked.append(start_ms)
        return iter(())

    @contextlib.contextmanager
    def client(cfg: Any) -> Iterator[Any]:
        yield type("Http", (), {"stats": {}})()

    monkeypatch.setattr(jobs, "open_writer", lambda ctx, ns: FakeWriter(rows))
    monkeypatch.setattr(jobs, "fetch_klines", fetch)
    monkeypatch.setattr(jobs, "rest_client", client)
    monkeypatch.setattr(jobs.Tally, "result", lambda self, writer=None, kafka=None: None)
    ctx = JobContext(kind="ingest", name="binance.klines", settings=settings,
                     host=build_plugin_manager(settings, autoload=False),
                     end=T0 + timedelta(hours=1))
    jobs.BinanceKlines(KlinesConfig(symbols=["BTCUSDT"], intervals=["1m"])).run(ctx)
    (start_ms,) = asked
    return start_ms


def _row(minute: int, closed: bool) -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "interval": "1m", "open_time": T0 + timedelta(minutes=minute),
            "is_closed": closed}


def ms(minute: int) -> int:
    return int((T0 + timedelta(minutes=minute)).timestamp() * 1000)


def test_the_open_candle_stored_last_is_refetched(
    cryptolake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the last run stored 23:00..23:19 closed and 23:20 still open
    rows = [_row(m, True) for m in range(20)] + [_row(20, False)]
    assert _run(rows, cryptolake_settings, monkeypatch) == ms(20)


def test_after_a_closed_candle_the_run_starts_at_the_next_one(
    cryptolake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [_row(m, True) for m in range(21)]
    assert _run(rows, cryptolake_settings, monkeypatch) == ms(21)
    # only open candles stored (a first websocket run): the newest of them again
    assert _run([_row(5, False)], cryptolake_settings, monkeypatch) == ms(5)
