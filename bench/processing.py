"""Benchmark of the Spark processing jobs on the running stack (prints figures, asserts nothing).

1. Bronze → Silver throughput: one year of 1-hour klines × 7 coins plus a month of 1-minute BTC
   (recorded data) are written to a private Bronze namespace, then ``silver.ohlcv_1m``,
   ``silver.ohlcv_1h`` and ``silver.anomalies`` run; rows/s = Bronze (or input) rows / wall time.
   Each job runs twice: the second run is the idempotent no-op (nothing changes, no commit).
2. Streaming freshness: the supervised stream (trigger ``--trigger`` s, default 30) runs while
   ``--records`` aggTrade events are produced to Kafka at ``--rate`` per second; each record's
   latency is the time from its produce call until a Trino query on Bronze first returns it.
   p50 / p95 are printed with the goal p95 ≤ 2 × trigger.

    /root/.cache/cryptolake/venv/bin/python bench/processing.py [--part throughput|freshness|all]

Private namespaces and topics (``bench_<random>``) are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptolake.core import JobContext, build_plugin_manager, get_settings, run_job
from cryptolake.core.clients import (
    connect,
    delete_topics,
    ensure_topics,
    load_catalog,
    producer_config,
    spark_session,
)
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.core.testing.stack import drop_namespace
from cryptolake.processing.spark import start_stream, stop_stream, stream_status
from cryptolake.processing.spark import testing as rec
from cryptolake.processing.spark.stream import StreamConfig

COINS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT")


def run(settings: Settings, name: str, bronze_ns: str, silver_ns: str, **config: Any) -> Any:
    host = build_plugin_manager(settings, autoload=True, strict=True)
    entry = host.transforms.get(name)
    job = entry.load()(entry.configure(
        {"bronze_namespace": bronze_ns, "silver_namespace": silver_ns, **config}))
    ctx = JobContext(kind="transform", name=name, settings=settings, host=host)
    return run_job(ctx, job.run)


def throughput(settings: Settings) -> None:
    suffix = uuid.uuid4().hex[:8]
    bronze_ns, silver_ns = f"bench_{suffix}", f"bench_{suffix}_silver"
    catalog = load_catalog(settings)
    catalog.create_namespace(silver_ns)
    contract = get_contract("bronze.binance_klines")
    ensure_table(catalog, contract, namespace=bronze_ns)
    session = spark_session("cryptolake-bench", settings)
    try:
        fetched = datetime.now(UTC)
        rows = []
        year = datetime(2022, 1, 1, tzinfo=UTC)
        for coin in COINS:
            for i, k in enumerate(rec.klines_1h(coin, start=year)):
                if k.open_time >= year + timedelta(days=365):
                    break
                rows.append(rec.bronze_kline_row(k.event(), fetched, i))
        n_1h = len(rows)
        rows += [rec.bronze_kline_row(k.event(), fetched, i)
                 for i, k in enumerate(rec.klines_1m())]
        n_1m = len(rows) - n_1h
        t = time.perf_counter()
        for chunk in rec.chunks(rows, 50_000):
            rec.append_rows(session, f"{settings.lakehouse.catalog}.{bronze_ns}.binance_klines",
                            contract, chunk)
        print(f"seeded Bronze: {n_1h:,} 1h klines ({len(COINS)} coins, 1 year) + {n_1m:,} 1m "
              f"BTC klines in {time.perf_counter() - t:.1f}s")
        print(f"{'job':<18} {'input rows':>11} {'rows out':>9} {'seconds':>8} {'rows/s':>9}   "
              f"{'rerun s':>8} {'rerun out':>9}")
        inputs = {"silver.ohlcv_1m": n_1m, "silver.ohlcv_1h": n_1h + n_1m,
                  "silver.anomalies": n_1h + n_1m}
        total_rows = total_s = 0.0
        for job in ("silver.ohlcv_1m", "silver.ohlcv_1h", "silver.anomalies"):
            t = time.perf_counter()
            first = run(settings, job, bronze_ns, silver_ns)
            secs = time.perf_counter() - t
            t = time.perf_counter()
            second = run(settings, job, bronze_ns, silver_ns)
            rerun = time.perf_counter() - t
            n = inputs[job]
            total_rows += n
            total_s += secs
            print(f"{job:<18} {n:>11,} {first.rows_out:>9,} {secs:>8.1f} {n / secs:>9,.0f}   "
                  f"{rerun:>8.1f} {second.rows_out:>9,}")
        print(f"{'all three':<18} {int(total_rows):>11,} {'':>9} {total_s:>8.1f} "
              f"{total_rows / total_s:>9,.0f}")
    finally:
        drop_namespace(bronze_ns, settings)
        drop_namespace(silver_ns, settings)


def freshness(settings: Settings, trigger: float, records: int, rate: float) -> None:
    from confluent_kafka import Producer

    suffix = uuid.uuid4().hex[:8]
    ns, prefix = f"bench_{suffix}", f"bench_{suffix}."
    settings = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"topic_prefix": prefix})})
    topic = prefix + "binance.aggtrade"
    ensure_topics([topic, prefix + "binance.kline_1m"], settings)
    config = StreamConfig(name=f"bench-{suffix}", trigger_seconds=trigger, bronze_namespace=ns,
                          topics=["binance.aggtrade", "binance.kline_1m"])
    produced: dict[int, float] = {}
    seen: dict[int, float] = {}
    try:
        t = time.perf_counter()
        start_stream(config, settings, wait_running=300)
        # warm-up: one record through, so Spark start-up is not counted
        producer = Producer(producer_config(settings, **{"linger.ms": 0}))
        base = rec.trades_from_klines(rec.klines_1m(limit=records // 4 + 2))
        warm = {**base[0], "a": 1}
        producer.produce(topic, key=b"BTCUSDT", value=json.dumps(warm).encode())
        producer.flush(10)
        conn = connect(settings, ns)
        cur = conn.cursor()

        def visible(min_id: int) -> set[int]:
            try:
                cur.execute(f"SELECT agg_trade_id FROM binance_agg_trades "
                            f"WHERE agg_trade_id >= {min_id}")
                return {int(r[0]) for r in cur.fetchall()}
            except Exception:  # the table appears with the first commit
                return set()

        deadline = time.monotonic() + 600
        while 1 not in visible(1) and time.monotonic() < deadline:
            time.sleep(1)
        print(f"stream up and first record visible after {time.perf_counter() - t:.0f}s "
              f"(Spark start-up, not counted)")

        def produce_all() -> None:
            for i, event in enumerate(base[:records]):
                agg_id = 1_000 + i
                msg = {**event, "a": agg_id}
                produced[agg_id] = time.perf_counter()
                producer.produce(topic, key=b"BTCUSDT", value=json.dumps(msg).encode())
                producer.poll(0)
                time.sleep(1.0 / rate)
            producer.flush(10)

        thread = threading.Thread(target=produce_all)
        thread.start()
        deadline = time.monotonic() + records / rate + 4 * trigger + 120
        while len(seen) < records and time.monotonic() < deadline:
            now = time.perf_counter()
            for agg_id in visible(1_000):
                seen.setdefault(agg_id, now)
            time.sleep(0.5)
        thread.join()
        conn.close()
        status = stream_status(config.name, settings)
    finally:
        stop_stream(config.name, settings, timeout=60)
        delete_topics([topic, prefix + "binance.kline_1m"], settings)
        drop_namespace(ns, settings)
    lat = sorted(seen[i] - produced[i] for i in seen if i in produced)
    if len(lat) < 2:
        print(f"only {len(lat)} of {records} records became visible")
        return
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
    print(f"freshness over {len(lat)} of {records} records (trigger {trigger:.0f}s, "
          f"{rate:g} rec/s, Trino polled every 0.5s):")
    print(f"  p50 {p50:.1f}s   p95 {p95:.1f}s   max {lat[-1]:.1f}s   "
          f"goal p95 <= {2 * trigger:.0f}s: {'met' if p95 <= 2 * trigger else 'NOT met'}")
    print(f"  stream batches: {status.details.get('batches')}, state {status.state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("throughput", "freshness", "all"), default="all")
    parser.add_argument("--trigger", type=float, default=30.0)
    parser.add_argument("--records", type=int, default=120)
    parser.add_argument("--rate", type=float, default=1.0, help="records per second")
    args = parser.parse_args()
    settings = get_settings()
    if args.part in ("throughput", "all"):
        throughput(settings)
    if args.part in ("freshness", "all"):
        freshness(settings, args.trigger, args.records, args.rate)


if __name__ == "__main__":
    main()
