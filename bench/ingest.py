"""Ingest benchmark: replay into Kafka vs a bare confluent-kafka producer, and parser throughput.

    /root/.cache/cryptolake/venv/bin/python bench/ingest.py [--data /work/shared/data]

1. Replay of one year (2023) of 1-hour klines for 7 coins plus the month of 1-minute BTCUSDT
   klines into Kafka through the ``replay.recorded`` source (detect, parse, order, produce with
   the idempotent producer, wait for every ack). Reported: records/s of the whole job and of its
   produce phase.
2. The same bytes (topic, key, value of every record; and once more with the same headers,
   pre-built) sent by a bare confluent-kafka producer with the same settings, in rounds back to
   back with the replay. Reported: records/s per round and the median ratios replay / bare
   (goal >= 0.5).
3. Parse throughput of each layout's parser over the whole files (records/s).

Needs the running stack's Kafka; falls back to the bundled sample when the shared data set is
absent. Topics are created under a private prefix and deleted afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from cryptolake.core import JobContext, build_plugin_manager, get_settings, run_job
from cryptolake.core.clients import delete_topics, ensure_topics, producer_config
from cryptolake.ingest.replay import layouts
from cryptolake.ingest.replay.config import SAMPLE_DIR, ReplayConfig
from cryptolake.ingest.replay.jobs import Replay, load

SHARED = Path("/work/shared/data")
ROUNDS = 4  # round 0 is the cold one; the median of the others is reported
COINS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT")


def parse_throughput(root: Path) -> list[tuple[str, int, float]]:
    host = build_plugin_manager()
    out = []
    by_layout: dict[str, list[Path]] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".csv", ".json", ".gz", ".0"):
            data = layouts.read_bytes(p)
            lay = layouts.detect(host, p, data)
            if lay:
                by_layout.setdefault(lay, []).append(p)
    for lay, paths in sorted(by_layout.items()):
        blobs = [(p, layouts.read_bytes(p)) for p in paths]
        reader = layouts.reader_for(lay)
        t = time.perf_counter()
        n = sum(1 for p, d in blobs for _ in reader(p, d))
        out.append((lay, n, n / (time.perf_counter() - t)))
    return out


def bare(settings: object, msgs: list) -> float:
    """Seconds a plain confluent-kafka producer (same settings) takes to send ``msgs``."""
    from confluent_kafka import Producer

    p = Producer(
        producer_config(
            settings,
            **{
                "linger.ms": 50,
                "batch.num.messages": 10000,
                "queue.buffering.max.messages": 500000,
            },
        )
    )
    acked = 0

    def cb(err, msg):
        nonlocal acked
        if err is None:
            acked += 1

    t = time.perf_counter()
    for topic, key, value, headers in msgs:
        while True:
            try:
                p.produce(topic, key=key, value=value, headers=headers, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
    p.flush(120)
    elapsed = time.perf_counter() - t
    assert acked == len(msgs)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=SHARED if SHARED.is_dir() else SAMPLE_DIR)
    args = ap.parse_args()
    full = args.data != SAMPLE_DIR
    include = [f"binance/klines_1h/{c}_1h.csv*" for c in COINS] + [
        "binance/klines_1m/BTCUSDT_1m.csv*"
    ]
    start = datetime(2023, 1, 1, tzinfo=UTC) if full else None
    end = datetime(2025, 1, 1, tzinfo=UTC) if full else None

    base = get_settings()
    prefix = f"bench_{uuid.uuid4().hex[:8]}."
    settings = base.model_copy(
        update={"kafka": base.kafka.model_copy(update={"topic_prefix": prefix})}
    )
    host = build_plugin_manager(settings)
    cfg = ReplayConfig(data_dir=args.data, include=include, speed=0)
    print(f"data: {args.data} ({'shared data set' if full else 'bundled sample'})")
    try:
        # the records the replay will send, to give the bare producer the very same bytes
        merged, _, _ = load(
            host,
            cfg,
            start_ms=int(start.timestamp() * 1000) if start else None,
            end_ms=int(end.timestamp() * 1000) if end else None,
        )
        records = [rec for *_, rec in merged]
        n = len(records)
        nbytes = sum(len(r.payload) for r in records)
        bare_topics = {r.topic: f"{prefix}bare.{r.topic}" for r in records}
        ensure_topics(bare_topics.values(), settings)
        plain = [(bare_topics[r.topic], r.key.encode(), r.payload, None) for r in records]
        fetched = str(int(time.time() * 1000)).encode()
        with_headers = [
            (
                t,
                k,
                v,
                [
                    ("source", b"replay.recorded"),
                    ("layout", r.layout.encode()),
                    ("origin", r.origin.encode()),
                    ("fetched_at", fetched),
                    ("payload_sha256", sha256(v).hexdigest().encode()),
                ],
            )
            for (t, k, v, _), r in zip(plain, records, strict=True)
        ]
        # one window holds one year of 1h klines (2023; the 1h files end 2023-12-30) and the
        # 1m BTCUSDT month (2024-12)
        ctx = JobContext(
            kind="ingest",
            name="replay.recorded",
            settings=settings,
            host=host,
            start=start,
            end=end,
        )
        # rounds of (bare, bare with headers, replay) back to back: the machine is shared, so
        # each round's ratio compares runs made under the same load. Round 0 is a warm-up (the
        # producer's and the job's first run); the median of the other rounds is reported.
        rounds = []
        for _ in range(ROUNDS):
            b = bare(settings, plain)
            bh = bare(settings, with_headers)
            t0 = time.perf_counter()
            r = run_job(ctx, Replay(cfg).run)
            wall = time.perf_counter() - t0
            assert r.details["kafka"]["acknowledged"] == n, "Kafka did not acknowledge every record"
            rounds.append((b, bh, wall, r.details["parse_s"], r.details["emit_s"]))
        print(f"replay input: {n:,} records ({nbytes / 1e6:.1f} MB of values)")
        print(
            "round   bare r/s  bare+hdr r/s  replay r/s (parse s, produce s)  ratio e2e  ratio produce"
        )
        for i, (b, bh, wall, parse_s, emit_s) in enumerate(rounds):
            print(
                f"{i:5d} {n / b:10,.0f} {n / bh:13,.0f} {n / wall:11,.0f} ({parse_s:5.2f}, "
                f"{emit_s:5.2f}) {b / wall:11.2f} {b / emit_s:14.2f}"
            )
        warm = rounds[1:]
        e2e = statistics.median(b / w for b, _, w, _, _ in warm)
        prod = statistics.median(b / e for b, _, _, _, e in warm)
        prod_h = statistics.median(bh / e for _, bh, _, _, e in warm)
        e2e_h = statistics.median(bh / w for _, bh, w, _, _ in warm)
        best = min(w for _, _, w, _, _ in warm)
        print(f"replay end to end, best warm run: {n / best:,.0f} records/s")
        print(f"median ratio replay end to end / bare:           {e2e:.2f}   (goal >= 0.5)")
        print(f"median ratio replay end to end / bare+headers:   {e2e_h:.2f}   (the same bytes)")
        print(f"median ratio replay produce+ack / bare:          {prod:.2f}")
        print(f"median ratio replay produce+ack / bare+headers:  {prod_h:.2f}")

        # -- 3. parsers ---------------------------------------------------------------------------
        print("parse throughput (whole files):")
        for lay, count, rate in parse_throughput(args.data):
            print(f"  {lay:36s} {count:9,d} records {rate:12,.0f} records/s")
    finally:
        from confluent_kafka.admin import AdminClient

        from cryptolake.core.clients import admin_config

        admin = AdminClient(admin_config(settings))
        delete_topics(
            [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix)], settings
        )


if __name__ == "__main__":
    main()
