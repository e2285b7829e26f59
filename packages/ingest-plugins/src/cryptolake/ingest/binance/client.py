"""Binance clients: REST pages (klines, aggTrades) and the combined websocket stream.

The websocket loop keeps, per symbol, the last aggregate-trade id and the open time of the last
closed 1-minute kline. A jump in either — inside one connection or across a reconnect — is a gap;
it is backfilled from ``/api/v3/aggTrades?fromId=`` or ``/api/v3/klines`` before the new event is
emitted, so Kafka receives every id once and in order per symbol.

A REST outage during a backfill is transient: the event that revealed the gap is not emitted, the
loop reconnects after its backoff, and the next event reveals the (longer) gap again. A gap larger
than the backfill limits is not fetched: it is recorded in the job's ``gaps`` and raised as an alert
(``ops.alerts``), naming the ``binance.klines`` run that fills it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptolake.core import RecordRejected, TerminalError, TransientError
from cryptolake.ingest._records import Record, Reject, dumps, iso
from cryptolake.ingest.binance import parse
from cryptolake.ingest.binance.config import LiveConfig, RestConfig
from cryptolake.ingest.http import HttpClient, MalformedResponse

log = logging.getLogger(__name__)

WEIGHT_KLINES = 2
WEIGHT_AGG_TRADES = 4


def rest_client(cfg: RestConfig) -> HttpClient:
    return HttpClient(
        cfg.rest_url,
        weight_per_minute=cfg.weight_per_minute,
        max_retries=cfg.max_retries,
        backoff_base_s=cfg.backoff_base_s,
        backoff_max_s=cfg.backoff_max_s,
        auth_setting=(
            f"the Binance rest_url ({cfg.rest_url}); a 403 from Binance is also its firewall "
            "refusing this address"
        ),
    )


def fetch_klines(
    http: HttpClient, symbol: str, interval: str, start_ms: int, end_ms: int, *, limit: int = 1000
) -> Iterator[Record | Reject]:
    """Every kline opening in ``[start_ms, end_ms]``, page by page."""
    step = parse.INTERVAL_MS[interval]
    cursor = start_ms
    while cursor <= end_ms:
        params = {
            "symbol": symbol,
            "interval": interval,
            "startTime": cursor,
            "endTime": end_ms,
            "limit": limit,
        }
        try:
            resp = http.get_json("/api/v3/klines", params, weight=WEIGHT_KLINES)
        except MalformedResponse as exc:
            yield Reject(
                f"malformed REST response: {exc.reason}",
                exc.body[:65536],
                parse.LAYOUT_REST,
                exc.url,
                parse.KLINES,
            )
            return
        if not isinstance(resp.data, list):
            yield Reject(
                "expected a JSON array of klines",
                resp.body[:65536],
                parse.LAYOUT_REST,
                resp.url,
                parse.KLINES,
            )
            return
        if not resp.data:
            return
        last_open = cursor
        for arr in resp.data:
            try:
                event = parse.rest_kline_event(arr, symbol, interval)
                close = event["k"].get("T")
                event["k"]["x"] = isinstance(close, int) and close < resp.fetched_ms
                rec = parse.event_record(
                    event, dumps(event), layout=parse.LAYOUT_REST, origin=resp.url
                )
                last_open = max(last_open, rec.event_ms)
                yield rec
            except RecordRejected as exc:
                yield Reject(exc.reason, dumps(arr), parse.LAYOUT_REST, resp.url, parse.KLINES)
        if len(resp.data) < limit:
            return
        cursor = last_open + step


def fetch_agg_trades(
    http: HttpClient, symbol: str, from_id: int, to_id: int, *, limit: int = 1000
) -> Iterator[Record | Reject]:
    """Aggregate trades with ids ``from_id..to_id`` (inclusive)."""
    cursor = from_id
    while cursor <= to_id:
        params = {"symbol": symbol, "fromId": cursor, "limit": min(limit, to_id - cursor + 1)}
        try:
            resp = http.get_json("/api/v3/aggTrades", params, weight=WEIGHT_AGG_TRADES)
        except MalformedResponse as exc:
            yield Reject(
                f"malformed REST response: {exc.reason}",
                exc.body[:65536],
                parse.LAYOUT_REST,
                exc.url,
                parse.AGG_TRADES,
            )
            return
        if not isinstance(resp.data, list) or not resp.data:
            return
        advanced = False
        for obj in resp.data:
            try:
                event = parse.rest_agg_trade_event(obj, symbol)
                rec = parse.event_record(
                    event, dumps(event), layout=parse.LAYOUT_REST, origin=resp.url
                )
            except RecordRejected as exc:
                yield Reject(exc.reason, dumps(obj), parse.LAYOUT_REST, resp.url, parse.AGG_TRADES)
                continue
            a = rec.bronze_row()["agg_trade_id"]
            if a < cursor or a > to_id:
                continue
            cursor = a + 1
            advanced = True
            yield rec
        if not advanced:
            return


# -- the live websocket --------------------------------------------------------------------------


@dataclass
class LiveStats:
    messages: int = 0
    records: int = 0
    rejected: int = 0
    skipped_streams: int = 0
    duplicates: int = 0
    connections: int = 0
    reconnects: int = 0
    gaps_found: int = 0
    gaps_filled: int = 0
    backfilled: int = 0
    gaps_unfilled: int = 0
    rest_outages: int = 0
    gap_log: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GapTracker:
    """Per-symbol continuity of aggregate-trade ids and closed 1m klines."""

    last_agg_id: dict[str, int] = field(default_factory=dict)
    last_closed_1m: dict[str, int] = field(default_factory=dict)

    def agg_gap(self, rec: Record) -> tuple[int, int] | None | bool:
        """``(first, last)`` missing ids, ``None`` when contiguous, ``False`` for a duplicate."""
        sym, a = rec.key, rec.bronze_row()["agg_trade_id"]
        prev = self.last_agg_id.get(sym)
        if prev is not None and a <= prev:
            return False
        if prev is not None and a > prev + 1:
            return (prev + 1, a - 1)
        return None

    def kline_gap(self, rec: Record) -> tuple[int, int] | None | bool:
        row = rec.bronze_row()
        if row["interval"] != "1m" or row["is_closed"] is not True:
            return None
        sym, t = rec.key, rec.event_ms
        prev = self.last_closed_1m.get(sym)
        if prev is not None and t <= prev:
            return False
        if prev is not None and t > prev + 60_000:
            return (prev + 60_000, t - 60_000)
        return None

    def seed(self, records: list[Record]) -> None:
        """Continue from records already delivered (read back from Kafka after a restart)."""
        for rec in records:
            self.seen(rec)

    def seen(self, rec: Record) -> None:
        row = rec.bronze_row()
        if rec.feed == parse.AGG_TRADES:
            self.last_agg_id[rec.key] = max(row["agg_trade_id"], self.last_agg_id.get(rec.key, -1))
        elif row.get("interval") == "1m" and row.get("is_closed") is True:
            self.last_closed_1m[rec.key] = max(rec.event_ms, self.last_closed_1m.get(rec.key, -1))


class LiveStream:
    """The combined websocket loop; ``emit(record)`` / ``reject(reject)`` receive the output."""

    def __init__(
        self,
        cfg: LiveConfig,
        emit: Callable[[Record], None],
        reject: Callable[[Reject], None],
        *,
        http: HttpClient | None = None,
        progress: Callable[[LiveStats], None] | None = None,
        gaps: GapTracker | None = None,
        alert: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.emit_record = emit
        self.reject = reject
        self.http = http or rest_client(cfg)
        self.progress = progress
        self.stats = LiveStats()
        self.gaps = gaps or GapTracker()
        #: ``alert(subject, message)``: a gap the stream could not fill (default: logged only)
        self.alert = alert or (lambda subject, message: None)
        self._rng = random.Random()
        self._started = 0.0

    @property
    def url(self) -> str:
        names = [f"{s.lower()}@{st}" for s in self.cfg.symbols for st in self.cfg.streams]
        return f"{self.cfg.ws_url.rstrip('/')}/stream?streams=" + "/".join(names)

    def run(self) -> LiveStats:
        asyncio.run(self._run())
        return self.stats

    def _done(self) -> bool:
        if self.cfg.max_messages is not None and self.stats.records >= self.cfg.max_messages:
            return True
        if (
            self.cfg.max_seconds is not None
            and time.monotonic() - self._started >= self.cfg.max_seconds
        ):
            return True
        return False

    async def _run(self) -> None:
        import websockets

        self._started = time.monotonic()
        attempt = 0
        while not self._done():
            connected_at = time.monotonic()
            try:
                async with websockets.connect(
                    self.url, open_timeout=self.cfg.open_timeout_s, max_size=2**23
                ) as ws:
                    self.stats.connections += 1
                    attempt = 0
                    log.info("connected to %s", self.url)
                    while not self._done():
                        if time.monotonic() - connected_at >= self.cfg.reconnect_every_s:
                            log.info("reconnecting proactively before the 24-hour disconnect")
                            break
                        budget = 1.0
                        if self.cfg.max_seconds is not None:
                            left = self.cfg.max_seconds - (time.monotonic() - self._started)
                            budget = max(0.01, min(budget, left))
                        try:
                            frame = await asyncio.wait_for(ws.recv(), timeout=budget)
                        except TimeoutError:
                            continue
                        await self._handle(frame)
                    if self._done():
                        return
            except (OSError, TimeoutError) as exc:
                log.warning("websocket connection failed: %s", exc)
            except websockets.ConnectionClosed as exc:
                log.warning("websocket closed by the server (%s); reconnecting", exc)
            except websockets.InvalidHandshake as exc:
                log.warning("websocket handshake refused: %s", exc)
            except TransientError as exc:
                # the REST backfill failed after its retries: reconnect; the gap shows again
                self.stats.rest_outages += 1
                log.warning("gap backfill failed (%s); reconnecting to retry it", exc)
            if self._done():
                return
            self.stats.reconnects += 1
            cap = min(self.cfg.reconnect_max_s, self.cfg.reconnect_initial_s * 2**attempt)
            attempt += 1
            await asyncio.sleep(self._rng.uniform(0, cap))

    async def _handle(self, frame: str | bytes) -> None:
        self.stats.messages += 1
        origin = "ws"
        try:
            stream, body = parse.split_frame(frame)
        except Exception as exc:  # - any garbage frame is a reject, never a crash
            self.stats.rejected += 1
            self.reject(
                Reject(f"unparsable websocket frame: {exc}", frame, parse.LAYOUT_WS, origin)
            )
            return
        if not parse.is_ingested_stream(stream):
            self.stats.skipped_streams += 1
            return
        item = parse.parse_event_bytes(body, layout=parse.LAYOUT_WS, origin=stream or origin)
        if isinstance(item, Reject):
            self.stats.rejected += 1
            self.reject(item)
            return
        gap = (
            self.gaps.agg_gap(item) if item.feed == parse.AGG_TRADES else self.gaps.kline_gap(item)
        )
        if gap is False:
            self.stats.duplicates += 1
            return
        if isinstance(gap, tuple):
            await self._backfill(item, gap)
        self._emit(item)
        self.stats.records += 1
        if self.progress is not None and self.stats.records % 100 == 0:
            self.progress(self.stats)

    def _emit(self, rec: Record) -> None:
        self.gaps.seen(rec)
        self.emit_record(rec)

    async def _backfill(self, rec: Record, gap: tuple[int, int]) -> None:
        first, last = gap
        kind = "aggTrade" if rec.feed == parse.AGG_TRADES else "kline_1m"
        self.stats.gaps_found += 1
        entry = {"symbol": rec.key, "stream": kind, "first": first, "last": last, "filled": 0}
        self.stats.gap_log.append(entry)
        log.warning(
            "%s %s gap: %s..%s missing; backfilling=%s",
            rec.key,
            kind,
            first,
            last,
            self.cfg.backfill,
        )
        if not self.cfg.backfill:
            return
        if kind == "aggTrade":
            if last - first + 1 > self.cfg.max_backfill_trades:
                await self._unfilled(
                    entry,
                    f"{rec.key} aggTrade gap of {last - first + 1} ids ({first}..{last}) exceeds "
                    f"max_backfill_trades={self.cfg.max_backfill_trades}; not filled: run "
                    f"binance.klines for that time to restore the candles",
                )
                return
            items = await asyncio.to_thread(
                lambda: list(fetch_agg_trades(self.http, rec.key, first, last))
            )
            expected = last - first + 1
        else:
            if (last - first) // 60_000 + 1 > self.cfg.max_backfill_minutes:
                lo, hi = iso(first), iso(last + 60_000)
                await self._unfilled(
                    entry,
                    f"{rec.key} kline_1m gap of {(last - first) // 60_000 + 1} minutes "
                    f"({lo}..{hi}) exceeds max_backfill_minutes={self.cfg.max_backfill_minutes}; "
                    f"not filled: run `cryptolake ingest run binance.klines --from {lo} "
                    f"--to {hi} --set symbols='[\"{rec.key}\"]'`",
                )
                return
            items = await asyncio.to_thread(
                lambda: list(fetch_klines(self.http, rec.key, "1m", first, last))
            )
            expected = (last - first) // 60_000 + 1
        got = 0
        entry["filled"] = 0
        for it in items:
            if isinstance(it, Reject):
                self.stats.rejected += 1
                self.reject(it)
                continue
            self._emit(it)
            got += 1
        entry["filled"] = got
        self.stats.backfilled += got
        if got >= expected:
            self.stats.gaps_filled += 1
        else:
            log.warning(
                "%s %s gap %s..%s: REST returned %d of %d",
                rec.key,
                kind,
                first,
                last,
                got,
                expected,
            )

    async def _unfilled(self, entry: dict[str, Any], message: str) -> None:
        entry["unfilled"] = message
        self.stats.gaps_unfilled += 1
        log.error("%s", message)
        subject = f"{entry['symbol']} {entry['stream']}"
        try:
            await asyncio.to_thread(self.alert, subject, message)
        except Exception as exc:  # - an alert that cannot be stored must not stop the stream
            log.error("could not record the alert for %s: %s", subject, exc)


__all__ = [
    "GapTracker",
    "LiveStats",
    "LiveStream",
    "TerminalError",
    "fetch_agg_trades",
    "fetch_klines",
    "rest_client",
]
