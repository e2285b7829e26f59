"""Streaming freshness benchmark: recorded data replayed live, Kafka → Spark → Bronze → Trino.

    ~/.cache/cryptolake/venv/bin/python bench/freshness.py [--minutes 30] [--trigger 5]
        [--rate 20] [--compact-every 60] [--data /work/shared/data]

First the cryptofeed websocket capture (its aggTrade and kline frames) goes through once as a
warm-up (a fresh Spark session's first micro-batch is slow; not counted). Then, for ``--minutes``,
the ``replay.recorded`` source (the real source code, the idempotent producer) sends the recorded
1-minute BTCUSDT klines as websocket kline events, paced at ``--rate`` records per second
(``speed`` = rate × 60 recorded seconds per second), into private topics. The
supervised stream job (``cryptolake stream``'s process, trigger ``--trigger`` s) writes them to a
private Bronze namespace and compacts its tables every ``--compact-every`` s in its own Spark
session. Measured, all on this machine's clock:

- **freshness** of every record: from its produce call (the Kafka CreateTime kept in Bronze's
  ``ingested_at``) until a Trino query on Bronze first returns it (Trino is polled every
  ``--poll`` s; a record counts as visible at the start of the first query that returns it);
  p50 / p95 / max overall and per 5-minute window;
- **files**: data files per partition of the streamed table (Iceberg ``$partitions`` through Trino)
  every minute — most files in one partition, total files — against the appends so far (the
  files there would be without compaction); at the end, ``cryptolake maintenance run`` on the
  tables, files before → after;
- **query latency** through Trino on the streamed table: the freshness poll and an analytic
  query (per-symbol count, last close) every 15 s; p50 / p95 / max per window;
- the machine's load average (1 min) per window, and the stream's own metrics (its /metrics).

Topics and the namespace are private (``bench_<random>``) and removed at the end. Asserts
nothing; prints figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptolake.core import JobContext, build_plugin_manager, get_settings, run_job
from cryptolake.core.clients import connect, delete_topics, ensure_topics
from cryptolake.core.settings import Settings
from cryptolake.core.testing.stack import drop_namespace
from cryptolake.ingest.replay.config import ReplayConfig
from cryptolake.ingest.replay.jobs import TOPICS, Replay
from cryptolake.processing.spark import start_stream, stop_stream, stream_status
from cryptolake.processing.spark.stream import StreamConfig

SHARED = Path("/work/shared/data")
WARM_UP = ["websocket/*/BINANCE.ws.*"]  # the capture's aggTrade and kline frames
INCLUDE = ["binance/klines_1m/*"]
TABLE = "binance_klines"  # the recorded 1-minute klines: nearly every record
WINDOW_S = 300


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "—"
    return (f"p50 {statistics.median(values):5.1f}  p95 {pct(values, 0.95):5.1f}  "
            f"max {max(values):5.1f}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Samples:
    """What the watcher threads record, with wall-clock (time.time) stamps."""

    latency: list[tuple[float, float]] = field(default_factory=list)  # (seen at, seconds)
    poll_s: list[tuple[float, float]] = field(default_factory=list)
    analytic_s: list[tuple[float, float]] = field(default_factory=list)
    files: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    load: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Watcher:
    """Polls Trino for new rows of the streamed table, times queries, samples file counts."""

    def __init__(self, settings: Settings, ns: str, poll: float) -> None:
        self.settings, self.ns, self.poll = settings, ns, poll
        self.samples = Samples()
        self.stop = threading.Event()
        self.seen: set[tuple[int, int]] = set()
        self.high = datetime(1970, 1, 1, tzinfo=UTC)

    def _cursor(self) -> Any:
        return connect(self.settings, self.ns).cursor()

    def freshness_loop(self) -> None:
        cur = self._cursor()
        while not self.stop.is_set():
            began = time.time()
            since = (self.high - timedelta(seconds=120)).strftime("%Y-%m-%d %H:%M:%S.%f")
            try:
                cur.execute(
                    f"SELECT kafka_partition, kafka_offset, to_unixtime(ingested_at) "
                    f"FROM {TABLE} WHERE ingested_at > TIMESTAMP '{since} UTC'"
                )
                rows = cur.fetchall()
            except Exception as exc:  # the table has no snapshot before the first commit
                self.samples.errors.append(str(exc).splitlines()[0][:120])
                self.stop.wait(self.poll)
                continue
            ended = time.time()
            self.samples.poll_s.append((ended, ended - began))
            for part, off, produced in rows:
                if (part, off) in self.seen:
                    continue
                self.seen.add((part, off))
                self.samples.latency.append((began, began - float(produced)))
                ts = datetime.fromtimestamp(float(produced), UTC)
                self.high = max(self.high, ts)
            self.stop.wait(max(0.0, self.poll - (time.time() - began)))

    def stats_loop(self) -> None:
        cur = self._cursor()
        last_files = 0.0
        while not self.stop.is_set():
            now = time.time()
            self.samples.load.append((now, os.getloadavg()[0]))
            try:
                t = time.time()
                cur.execute(f"SELECT symbol, count(*), max(open_time), max_by(close, open_time) "
                            f"FROM {TABLE} GROUP BY symbol")
                cur.fetchall()
                self.samples.analytic_s.append((time.time(), time.time() - t))
                if now - last_files >= 60:
                    last_files = now
                    self.samples.files.append((now, *self.file_counts(cur)))
            except Exception as exc:
                self.samples.errors.append(str(exc).splitlines()[0][:120])
            self.stop.wait(15)

    def file_counts(self, cur: Any) -> tuple[int, int, int, int]:
        """(most files in a partition, files, partitions, appends so far) of the table."""
        cur.execute(f'SELECT max(file_count), sum(file_count), count(*) FROM "{TABLE}$partitions"')
        most, files, parts = cur.fetchone()
        cur.execute(f"SELECT count(*) FROM \"{TABLE}$snapshots\" WHERE operation = 'append'")
        appends = int(cur.fetchone()[0])
        return int(most or 0), int(files or 0), int(parts or 0), appends


def warm_up(settings: Settings, ns: str, data: Path) -> float:
    """The websocket capture through the whole path, once, before measuring: the first
    micro-batch of a fresh Spark session (code generation, first Iceberg commit) is slow and
    not what freshness is about. Returns the seconds it took to be visible."""
    host = build_plugin_manager(settings, autoload=True, strict=True)
    t = time.perf_counter()
    ctx = JobContext(kind="ingest", name="replay.recorded", settings=settings, host=host)
    run_job(ctx, Replay(ReplayConfig(data_dir=data, include=WARM_UP, namespace=ns)).run)
    cur = connect(settings, ns).cursor()
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        try:
            cur.execute(f"SELECT count(*) FROM {TABLE}")
            if int(cur.fetchone()[0]) > 0:
                break
        except Exception:  # no snapshot before the first commit
            pass
        time.sleep(1)
    return time.perf_counter() - t


def replay(settings: Settings, ns: str, data: Path, rate: float, minutes: float,
           out: dict[str, Any]) -> None:
    """The replay source for ``minutes`` of wall time at ``rate`` records/s."""
    speed = rate * 60.0  # one 1-minute kline per recorded minute
    host = build_plugin_manager(settings, autoload=True, strict=True)
    cfg = ReplayConfig(data_dir=data, include=INCLUDE, speed=speed, namespace=ns,
                       max_pause_s=1.0)
    # the recorded minute klines start 2024-11-30 23:00 UTC; stop after `minutes` of wall time
    start = datetime(2024, 11, 30, 23, 0, tzinfo=UTC)
    ctx = JobContext(kind="ingest", name="replay.recorded", settings=settings, host=host,
                     start=start, end=start + timedelta(seconds=minutes * 60 * speed))
    t = time.perf_counter()
    result = run_job(ctx, Replay(cfg).run)
    out.update(records=result.rows_out, seconds=time.perf_counter() - t,
               rejected=result.rejected, speed=speed)


def scrape(port: int | None) -> dict[str, float]:
    if not port:
        return {}
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.decode().splitlines():
        if line.startswith("cryptolake_stream_") and " " in line:
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--trigger", type=float, default=5.0, help="stream trigger, seconds")
    parser.add_argument("--rate", type=float, default=20.0, help="records per second")
    parser.add_argument("--compact-every", type=float, default=60.0,
                        help="seconds between the stream's compactions (0: none)")
    parser.add_argument("--compact-min-files", type=int, default=6)
    parser.add_argument("--poll", type=float, default=1.0, help="Trino poll interval, seconds")
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--no-final-maintenance", action="store_true")
    args = parser.parse_args()

    settings = get_settings()
    suffix = uuid.uuid4().hex[:8]
    ns, prefix = f"bench_{suffix}", f"bench_{suffix}."
    settings = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"topic_prefix": prefix})})
    topics = [prefix + t for t in TOPICS]
    ensure_topics(topics, settings)
    port = free_port()
    config = StreamConfig(
        name=f"bench-{suffix}", trigger_seconds=args.trigger, bronze_namespace=ns,
        topics=["binance.aggtrade", "binance.kline_1m"], compact_interval_s=args.compact_every,
        compact_min_files=args.compact_min_files, metrics_port=port,
    )
    print(f"bench {suffix}: {args.minutes:g} min at {args.rate:g} rec/s, trigger "
          f"{args.trigger:g}s, compaction every {args.compact_every:g}s (min "
          f"{args.compact_min_files} files), Trino polled every {args.poll:g}s; load "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
          flush=True)
    watcher = Watcher(settings, ns, args.poll)
    produced: dict[str, Any] = {}
    final: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        status = start_stream(config, settings, wait_running=900)
        print(f"stream {status.state} after {time.perf_counter() - t0:.0f}s (Spark start-up, "
              f"not counted)", flush=True)
        print(f"warm-up: the websocket capture visible through Trino after "
              f"{warm_up(settings, ns, args.data):.0f}s (not counted)", flush=True)
        threads = [threading.Thread(target=watcher.freshness_loop, daemon=True),
                   threading.Thread(target=watcher.stats_loop, daemon=True)]
        for th in threads:
            th.start()
        began = time.time()
        producer = threading.Thread(
            target=replay, args=(settings, ns, args.data, args.rate, args.minutes, produced))
        producer.start()
        next_line = began + WINDOW_S
        while producer.is_alive():
            producer.join(5)
            if time.time() >= next_line:
                report_window(watcher.samples, next_line - WINDOW_S, next_line, began)
                next_line += WINDOW_S
        # the tail: wait until the last records are visible (or 4 triggers + 60 s)
        deadline = time.time() + 4 * args.trigger + 60
        while len(watcher.seen) < produced.get("records", 0) and time.time() < deadline:
            time.sleep(1)
        ended = time.time()
        watcher.stop.set()
        for th in threads:
            th.join(30)
        final["metrics"] = scrape(port)
        final["status"] = stream_status(config.name, settings).details
    finally:
        stop_stream(config.name, settings, timeout=120)
    try:
        report(args, watcher, produced, began, ended, final)
        if not args.no_final_maintenance:
            final_maintenance(settings, ns)
    finally:
        delete_topics(topics, settings)
        drop_namespace(ns, settings)


def report_window(s: Samples, lo: float, hi: float, began: float) -> None:
    lat = [v for t, v in s.latency if lo <= t < hi]
    poll = [v for t, v in s.poll_s if lo <= t < hi]
    ana = [v for t, v in s.analytic_s if lo <= t < hi]
    files = [f for f in s.files if lo <= f[0] < hi]
    load = [v for t, v in s.load if lo <= t < hi]
    f = files[-1] if files else None
    print(f"[{(lo - began) / 60:4.0f}-{(hi - began) / 60:3.0f} min] {len(lat):6,} records  "
          f"freshness {summary(lat)}  | Trino poll {summary(poll)}  analytic {summary(ana)}  | "
          f"files/partition max {f[1] if f else '—'}, files {f[2] if f else '—'}, appends "
          f"{f[4] if f else '—'}  | load {statistics.mean(load) if load else 0:.2f}",
          flush=True)


def report(args: argparse.Namespace, watcher: Watcher, produced: dict[str, Any], began: float,
           ended: float, final: dict[str, Any]) -> None:
    s = watcher.samples
    print()
    print(f"windows of {WINDOW_S // 60} min (freshness and query latency in seconds):")
    lo = began
    while lo < ended:
        report_window(s, lo, min(lo + WINDOW_S, ended + 1), began)
        lo += WINDOW_S
    lat = [v for _, v in s.latency]
    n = produced.get("records", 0)
    print()
    print(f"replay: {n:,} records in {produced.get('seconds', 0):.0f}s "
          f"({n / max(produced.get('seconds', 1), 1e-9):.1f} rec/s, speed "
          f"{produced.get('speed', 0):g}), {produced.get('rejected', 0)} rejected; "
          f"{len(watcher.seen):,} seen through Trino")
    p95 = pct(lat, 0.95) if lat else float("nan")
    print(f"FRESHNESS over {(ended - began) / 60:.1f} min, {len(lat):,} records, trigger "
          f"{args.trigger:g}s: {summary(lat)}   goal p95 <= 10s: "
          f"{'met' if lat and p95 <= 10 else 'NOT met'}")
    print(f"Trino freshness poll: {summary([v for _, v in s.poll_s])}  "
          f"({len(s.poll_s)} queries)")
    print(f"Trino analytic query: {summary([v for _, v in s.analytic_s])}  "
          f"({len(s.analytic_s)} queries)")
    if s.files:
        first, last = s.files[0], s.files[-1]
        print(f"files of {TABLE}: first sample {first[2]} files in {first[3]} partitions (max "
              f"{first[1]}/partition, {first[4]} appends); last {last[2]} files in {last[3]} "
              f"partitions (max {last[1]}/partition, {last[4]} appends); max over the run "
              f"{max(f[1] for f in s.files)}/partition, {max(f[2] for f in s.files)} files")
    loads = [v for _, v in s.load]
    if loads:
        print(f"load average (1 min) over the run: mean {statistics.mean(loads):.2f}, max "
              f"{max(loads):.2f} on {os.cpu_count()} cores")
    m = final.get("metrics") or {}
    batches = sum(v for k, v in m.items() if k.startswith("cryptolake_stream_batches_total"))
    dur = sum(v for k, v in m.items()
              if k.startswith("cryptolake_stream_batch_duration_seconds_sum"))
    comp = {k: v for k, v in m.items() if k.startswith("cryptolake_stream_compactions_total")}
    if batches:
        print(f"stream /metrics: {batches:.0f} batches, mean batch {dur / batches:.2f}s; "
              f"compactions {sum(comp.values()):.0f}")
    if s.errors:
        print(f"{len(s.errors)} poll errors (before the first commit, or transient), e.g. "
              f"{s.errors[0]}")
    details = final.get("status") or {}
    print(f"stream: {details.get('batches')} batches, last compaction "
          f"{details.get('last_compaction')}")


def final_maintenance(settings: Settings, ns: str) -> None:
    from cryptolake.processing.maintenance.iceberg import MaintenanceConfig, run_maintenance

    t = time.perf_counter()
    rep = run_maintenance(
        [f"{ns}.{TABLE}", f"{ns}.binance_agg_trades"],
        MaintenanceConfig(retention_hours=0, retain_last=5, remove_orphans=False,
                          min_input_files=2),
        settings,
    )
    print(f"\ncryptolake maintenance run on the streamed tables ({time.perf_counter() - t:.0f}s):")
    print(rep.render())


if __name__ == "__main__":
    main()
