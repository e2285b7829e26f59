"""Replay: recorded real data through the same Kafka and Bronze paths as the live sources.

Every file under the data directory is detected (``cryptolake_detect_layout``), parsed, and its
records merged into one event-time order (ties broken by file and position, so every run emits
the same sequence). Binance records go to Kafka exactly as ``binance.live`` sends them; CoinGecko
and Fear & Greed records go to Bronze exactly as their batch sources write them. ``speed`` paces
the emission (3600 = one recorded hour per second; 0 = as fast as possible).
"""

from __future__ import annotations

import fnmatch
import gc
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptolake.core import JobContext, JobResult, PluginError
from cryptolake.ingest._job import Tally, open_writer
from cryptolake.ingest._records import Record, Reject, dt_to_ms, now_ms
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.replay import layouts
from cryptolake.ingest.replay.config import ReplayConfig

log = logging.getLogger(__name__)

TOPICS = (
    binance.AGG_TRADE_TOPIC,
    binance.kline_topic("1m"),
    binance.kline_topic("1h"),
    binance.kline_topic("1d"),
)


@contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _selected(root: Path, cfg: ReplayConfig) -> list[Path]:
    files = []
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        if not any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(p.name, g) for g in cfg.include):
            continue
        if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(p.name, g) for g in cfg.exclude):
            continue
        files.append(p)
    return files


DAY_MS = 86_400_000


Item = tuple[int, int, int, Record]  # (event time, file, position, record): unique, sortable


def _part_of_span(kept: list[Item], cfg: ReplayConfig) -> list[Item]:
    """The records of one file that ``fraction`` and ``newest_day`` keep.

    The cut is by event time within the file's own span (its first .. last record), never by file
    names or positions, so every feed keeps the same share of its history whatever the data set.
    """
    if not kept or (cfg.fraction >= 1 and cfg.newest_day == "include"):
        return kept
    first = min(k[0] for k in kept)
    last = max(k[0] for k in kept)
    if cfg.fraction < 1:
        cut = first + int(cfg.fraction * (last - first))
        kept = [k for k in kept if k[0] <= cut]
        last = max(k[0] for k in kept)
    if last - first <= DAY_MS:  # a file of one day or less (a capture, a snapshot) has no
        return [] if cfg.newest_day == "only" else kept  # older part: it is not a new day
    if cfg.newest_day == "exclude":
        kept = [k for k in kept if k[0] <= last - DAY_MS]
    elif cfg.newest_day == "only":
        kept = [k for k in kept if k[0] > last - DAY_MS]
    return kept


READ_THREADS = 2


def _read_file(
    host: Any,
    root: Path,
    fi: int,
    path: Path,
    cfg: ReplayConfig,
    window: tuple[int | None, int | None] | None,
    wanted: set[str] | None,
) -> tuple[list[Item], list[Reject], dict[str, Any]]:
    """One file's kept records (as sortable items), its rejects and its figures."""
    rel = path.relative_to(root).as_posix()
    try:
        data = layouts.read_bytes(path)
    except (OSError, EOFError) as exc:  # unreadable, or a broken .gz
        reject = Reject(f"cannot read the file: {exc}", b"", None, rel)
        return [], [reject], {"layout": None, "records": 0, "rejected": 1}
    layout = layouts.detect(host, path, data)
    if layout is None:
        reject = Reject(
            "unknown layout: no plugin recognised this file", data[: layouts.HEAD_BYTES], None, rel
        )
        return [], [reject], {"layout": None, "records": 0, "rejected": 1}
    try:
        reader = layouts.reader_for(layout)
        items = list(layouts.run_reader(reader, path, data, window))
    except Exception as exc:  # - whatever a reader raises rejects its file, not the replay
        log.warning("replay: %s (%s) could not be read: %s", rel, layout, exc, exc_info=True)
        reject = Reject(
            f"the {layout} reader failed on this file: {type(exc).__name__}: {exc}",
            data[: layouts.HEAD_BYTES],
            layout,
            rel,
        )
        return [], [reject], {"layout": layout, "records": 0, "rejected": 1}
    # one pass keeps the records as sortable items; most files have no rejects
    kept = [(i.event_ms, fi, seq, i) for seq, i in enumerate(items) if type(i) is Record]
    bad = [i for i in items if isinstance(i, Reject)] if len(kept) < len(items) else []
    kept = _part_of_span(kept, cfg)
    if wanted is not None:
        kept = [k for k in kept if k[3].key in wanted]
    if window is not None:  # readers that take no window
        lo = window[0] if window[0] is not None else -(2**63)
        hi = window[1] if window[1] is not None else 2**63
        kept = [k for k in kept if lo <= k[0] < hi]
    counts: dict[str, Any] = {"layout": layout, "records": len(kept)}
    if bad:
        counts["rejected"] = len(bad)
    return kept, bad, counts


def load(
    host: Any,
    cfg: ReplayConfig,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> tuple[list[Item], list[Reject], dict[str, Any]]:
    """Parse every selected file: (sorted records, rejects, per-file figures)."""
    root = cfg.directory()
    if not root.is_dir():
        raise PluginError("replay", f"data directory {root} does not exist")
    wanted = (
        {s.upper() for s in cfg.symbols} | {s.lower() for s in cfg.symbols} if cfg.symbols else None
    )
    window = (start_ms, end_ms) if start_ms is not None or end_ms is not None else None
    paths = _selected(root, cfg)

    def one(fi: int) -> tuple[list[Item], list[Reject], dict[str, Any]]:
        return _read_file(host, root, fi, paths[fi], cfg, window, wanted)

    merged: list[Item] = []
    rejects: list[Reject] = []
    files: dict[str, Any] = {}
    # Two files are read at a time: the Arrow part of one file's parse (CSV, kernels) releases
    # the GIL while the other builds its records.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for fi, (kept, bad, counts) in enumerate(pool.map(one, range(len(paths)))):
            merged.extend(kept)
            rejects.extend(bad)
            files[paths[fi].relative_to(root).as_posix()] = counts
    # (event time, file, position) is unique, so the tuples sort without comparing records
    merged.sort()
    return merged, rejects, files


class Replay:
    def __init__(self, config: ReplayConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.ingest.kafka import KafkaSink

        cfg = self.config
        t0 = time.perf_counter()
        read_ms = now_ms()  # the "fetch time" of recorded data: when it was read
        with _no_gc():  # ~10^5 long-lived records: cyclic GC passes would only cost time
            merged, rejects, files = load(
                ctx.host,
                cfg,
                start_ms=dt_to_ms(ctx.start) if ctx.start else None,
                end_ms=dt_to_ms(ctx.end) if ctx.end else None,
            )
        parse_s = time.perf_counter() - t0
        writer = open_writer(ctx, cfg.namespace)
        kafka = KafkaSink(ctx.settings, ctx.name, topics=TOPICS)
        tally = Tally(records_in=len(merged) + len(rejects), rejected=len(rejects))
        for rej in rejects:
            writer.reject(rej)
        total = len(merged)
        ctx.report(0, total, f"replaying {total} records from {cfg.directory()}")
        started = time.perf_counter()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._emit(ctx, merged, kafka, writer, read_ms, total)
        finally:
            if gc_was_enabled:
                gc.enable()
        kafka.flush()
        emit_s = time.perf_counter() - started
        writer.flush()
        ctx.report(total, total, "replayed")
        result = tally.result(writer, kafka)
        result.details.update(
            files=files,
            parse_s=round(parse_s, 3),
            emit_s=round(emit_s, 3),
            data_dir=str(cfg.directory()),
            speed=cfg.speed,
        )
        if cfg.drain_to_bronze:
            from cryptolake.ingest.binance.config import SinkConfig
            from cryptolake.ingest.binance.jobs import drain

            sink = drain(
                ctx,
                SinkConfig(
                    namespace=cfg.namespace,
                    topics=list(TOPICS),
                    group_id=cfg.sink_group_id,
                    idle_timeout_s=3.0,
                ),
            )
            result.details["bronze_sink"] = sink.details
            result.rejected += sink.rejected
        return result

    def _emit(
        self,
        ctx: JobContext,
        merged: list[Item],
        kafka: Any,
        writer: Any,
        read_ms: int,
        total: int,
    ) -> None:
        cfg = self.config
        if cfg.speed == 0:
            # as fast as possible: the Kafka records in event order in one tight loop, then the
            # batch records (their Bronze commit happens at the end either way)
            kafka.send_many((m[3] for m in merged if m[3].topic is not None), fetched_ms=read_ms)
            for *_, rec in merged:
                if rec.topic is None:
                    writer.add(rec, ingested_ms=read_ms)
            return
        wall0 = time.monotonic()
        first_ms = merged[0][0] if merged else 0
        send = kafka.send
        last_flush = time.monotonic()
        for n, (event_ms, _, _, rec) in enumerate(merged, start=1):
            if cfg.speed > 0:
                if writer.pending() and time.monotonic() - last_flush >= cfg.bronze_flush_s:
                    writer.flush()  # paced replays publish batch feeds as they go
                    last_flush = time.monotonic()
                due = wall0 + (event_ms - first_ms) / 1000.0 / cfg.speed
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(min(pause, cfg.max_pause_s))
                    if pause > cfg.max_pause_s:  # a long recorded silence: skip ahead
                        wall0 -= pause - cfg.max_pause_s
            if rec.topic is not None:
                send(rec, fetched_ms=read_ms)
            else:
                writer.add(rec, ingested_ms=read_ms)
            if n % 5000 == 0:
                ctx.report(n, total, f"{kafka.sent} to Kafka, {writer.pending()} for Bronze")
