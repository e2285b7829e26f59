"""Benchmark of the GraphQL API on the running stack (``cryptolake stack up``, data loaded).

    python bench/api.py                                   # the defaults below, about 2 minutes
    python bench/api.py --repeat 100 --seconds 60 --subscribers 100 --clients 50

Starts two private API servers on free ports (the read cache on, and off) and measures, in one
run so the ratios compare like with like:

1. p50/p95/p99 of three hot queries — the latest market overview, 7 days of 1 h candles, and
   dataHealth — answered from the cache, answered uncached, and the same SQL sent straight to
   Trino with the same client (the floor: ``uncached / direct`` is the API's overhead);
2. subscription latency from a Kafka produce to a client's receive, p50/p95, with ``N``
   concurrent subscribers over graphql-transport-ws;
3. sustained throughput on loopback with ``C`` concurrent clients on a cached query: requests
   per second, errors, and the API process's resident memory.

The client shares the machine's cores with the server and the stack: figures are as measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cryptolake.core.cli"]

OVERVIEW = "query Overview { marketOverview { symbol latestTime price change24h volume24h high24h low24h } }"
CANDLES = ("query Week($from: DateTime, $to: DateTime) { candles(symbol: \"BTCUSDT\", interval: \"1h\", "
           "from: $from, to: $to, first: 200) { nodes { openTime open high low close volume } } }")
HEALTH = ("query Health { dataHealth { trustworthy tables { table rows lastSnapshotId newestEvent "
          "freshnessLagSeconds qualityStatus } lastPipelineRun { runId status } } }")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cache: bool, prefix: str) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "CRYPTOLAKE_API__PORT": str(port), "CRYPTOLAKE_API__CACHE": str(cache).lower(),
           "CRYPTOLAKE_API__REDIS_DB": "6", "CRYPTOLAKE_API__ANONYMOUS__RATE_PER_MINUTE": "100000000",
           "CRYPTOLAKE_API__MAX_SUBSCRIPTIONS_PER_CONNECTION": "10", "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": prefix,
           "CRYPTOLAKE_LOG__FORMAT": "text", "CRYPTOLAKE_LOG__LEVEL": "WARNING"}
    proc = subprocess.Popen([*CLI, "api", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=30).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the API server did not become ready")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summary(xs: list[float]) -> dict[str, float]:
    return {"p50": pct(xs, 50), "p95": pct(xs, 95), "p99": pct(xs, 99), "mean": statistics.fmean(xs)}


def week_window() -> dict[str, str]:
    from cryptolake.core.clients import query

    (latest,) = query("SELECT max(open_time) FROM gold.fact_price_hourly WHERE symbol = 'BTCUSDT'")[0]
    from datetime import timedelta

    return {"from": (latest - timedelta(days=7)).isoformat(), "to": latest.isoformat()}


def time_api(url: str, query: str, variables: dict[str, Any], repeat: int) -> tuple[list[float], str]:
    import httpx

    out, cache = [], ""
    with httpx.Client(timeout=120) as c:
        c.post(url + "/graphql", json={"query": query, "variables": variables})  # warm
        for _ in range(repeat):
            t = time.perf_counter()
            r = c.post(url + "/graphql", json={"query": query, "variables": variables})
            out.append((time.perf_counter() - t) * 1000)
            body = r.json()
            assert not body.get("errors"), body["errors"]
            cache = body.get("extensions", {}).get("cache", "")
    return out, cache


def direct_statements(name: str, variables: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """The statements the API sends for ``name``, rendered with the same pinned reader."""
    from datetime import datetime

    from cryptolake.api.lakehouse import Lakehouse, Reader
    from cryptolake.api.loaders import QUALITY_SQL
    from cryptolake.api.quality.queries import EVENT_TIME
    from cryptolake.api.repositories import market, ops
    from cryptolake.api.timeframes import parse_interval
    from cryptolake.core import get_settings

    lake = Lakehouse(get_settings(), threads=2)
    captured: list[tuple[str, list[Any]]] = []

    async def capture() -> None:
        r = Reader(lake)

        async def fake(sql: str, params: Any = ()) -> list[Any]:
            captured.append((sql, list(params)))
            return []

        lake.query = fake  # type: ignore[method-assign]
        if name == "overview":
            await market.overview(r)
        elif name == "candles":
            await market.candles(r, "BTCUSDT", parse_interval("1h"), datetime.fromisoformat(variables["from"]),
                                 datetime.fromisoformat(variables["to"]), None, False, 201, ([], []))
        else:
            locs = await lake.locations()
            tables = sorted(t for t in locs if t.split(".")[0] in ("bronze", "silver", "gold", "ops", "ml"))
            for t in tables:
                await r.snapshot(t)
            timed = [t for t in tables if t in EVENT_TIME and r.read.get(t) is not None]
            parts = [f"SELECT ? AS t, CAST(max({EVENT_TIME[t]}) AS varchar) AS newest FROM {{t{i}}}"
                     for i, t in enumerate(timed)]
            await r.query(" UNION ALL ".join(parts), {f"t{i}": t for i, t in enumerate(timed)}, list(timed))
            marks = ", ".join("?" * len(tables))
            await r.query(QUALITY_SQL.replace("{marks}", marks), {"dq": "ops.dq_results"}, tables)
            await ops.runs(r, None, None, None, 0, 1)

    asyncio.run(capture())
    lake.close()
    return captured


def time_direct(statements: list[tuple[str, list[Any]]], repeat: int) -> list[float]:
    from cryptolake.core.clients import connect

    conn = connect()
    out = []
    for i in range(repeat + 1):
        t = time.perf_counter()
        for sql, params in statements:
            cur = conn.cursor()
            cur.execute(sql, params)
            cur.fetchall()
        if i:
            out.append((time.perf_counter() - t) * 1000)
    conn.close()
    return out


async def subscription_latency(url: str, prefix: str, subscribers: int, events: int) -> tuple[list[float], int]:
    """Produce → receive latency; a warm-up record first reaches every subscriber (a
    subscription has no acknowledgement in graphql-transport-ws)."""
    import websockets
    from confluent_kafka import Producer

    from cryptolake.core.clients import producer_config

    symbol = "BENCH" + uuid.uuid4().hex[:6].upper()
    sent: dict[int, float] = {}
    measured: set[int] = set()
    got: list[float] = []
    warmed: set[int] = set()

    async def client(n: int) -> None:
        async with websockets.connect(url.replace("http", "ws") + "/graphql", ping_interval=None,
                                      subprotocols=["graphql-transport-ws"], max_queue=None) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": f"subscription {{ trades(symbol: \"{symbol}\") {{ aggTradeId }} }}"}}))
            seen = 0
            while seen < events:
                msg = json.loads(await ws.recv())
                if msg.get("type") != "next":
                    continue
                tid = int(msg["payload"]["data"]["trades"]["aggTradeId"])
                warmed.add(n)
                if tid in measured:
                    got.append((time.perf_counter() - sent[tid]) * 1000)
                    seen += 1

    tasks = [asyncio.create_task(client(i)) for i in range(subscribers)]
    p = Producer(producer_config(None, **{"linger.ms": 0}))
    tid = 0

    def send(measure: bool) -> None:
        nonlocal tid
        tid += 1
        now = int(time.time() * 1000)
        sent[tid] = time.perf_counter()
        if measure:
            measured.add(tid)
        p.produce(prefix + "binance.aggtrade", key=symbol.encode(), value=json.dumps(
            {"e": "aggTrade", "E": now, "s": symbol, "a": tid, "p": "1", "q": "1", "f": tid, "l": tid,
             "T": now, "m": False}).encode())
        p.flush(5)

    deadline = time.monotonic() + 120
    while len(warmed) < subscribers and time.monotonic() < deadline:
        send(False)
        await asyncio.sleep(0.5)
    for _ in range(events):
        send(True)
        await asyncio.sleep(0.2)
    _, pending = await asyncio.wait(tasks, timeout=60)
    for t in pending:
        t.cancel()
    return got, len(warmed)


async def throughput(url: str, query: str, clients: int, seconds: float) -> tuple[int, int]:
    import httpx

    ok = errors = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as c:
        async def worker() -> None:
            nonlocal ok, errors
            while time.monotonic() < stop:
                try:
                    r = await c.post(url + "/graphql", json={"query": query})
                    if r.status_code == 200 and not r.json().get("errors"):
                        ok += 1
                    else:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(clients)))
    return ok, errors


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=30, help="timed requests per query and mode")
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--events", type=int, default=20, help="records produced for the latency test")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="throughput run length")
    args = ap.parse_args()

    prefix = f"bench_{uuid.uuid4().hex[:6]}."
    cached, cached_url = start_server(True, prefix)
    uncached, uncached_url = start_server(False, prefix)
    results: dict[str, Any] = {}
    try:
        import redis

        from cryptolake.core import get_settings

        redis.Redis.from_url(get_settings().redis_url(6)).flushdb()
        window = week_window()
        table = []
        for name, q, v in (("overview", OVERVIEW, {}), ("candles", CANDLES, window), ("dataHealth", HEALTH, {})):
            hit, hit_state = time_api(cached_url, q, v, args.repeat)
            miss, miss_state = time_api(uncached_url, q, v, args.repeat)
            direct = time_direct(direct_statements(name, v), args.repeat)
            row = {"query": name, "cached": summary(hit), "cache_state": hit_state, "uncached": summary(miss),
                   "uncached_state": miss_state, "direct_trino": summary(direct),
                   "uncached_over_direct_p95": summary(miss)["p95"] / summary(direct)["p95"]}
            table.append(row)
        results["queries"] = table
        lat, connected = asyncio.run(subscription_latency(cached_url, prefix, args.subscribers, args.events))
        results["subscriptions"] = {"subscribers": args.subscribers, "connected": connected,
                                    "events": args.events, "deliveries": len(lat), **summary(lat)}
        ok, errors = asyncio.run(throughput(cached_url, OVERVIEW, args.clients, args.seconds))
        results["throughput"] = {"clients": args.clients, "seconds": args.seconds, "requests": ok,
                                 "errors": errors, "rps": ok / args.seconds, "rss_mb": rss_mb(cached.pid)}
    finally:
        for proc in (cached, uncached):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        from confluent_kafka.admin import AdminClient

        from cryptolake.core import get_settings
        from cryptolake.core.clients.kafka import admin_config, delete_topics

        mine = [t for t in AdminClient(admin_config(get_settings())).list_topics(timeout=30).topics
                if t.startswith(prefix)]
        if mine:
            delete_topics(mine, get_settings())

    print(f"{'query':<11} {'mode':<9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in results["queries"]:
        for mode in ("cached", "uncached", "direct_trino"):
            s = row[mode]
            print(f"{row['query']:<11} {mode[:9]:<9} {s['p50']:8.1f} {s['p95']:8.1f} {s['p99']:8.1f}")
        print(f"{'':<11} uncached/direct p95 = {row['uncached_over_direct_p95']:.2f} "
              f"(cache state: {row['cache_state']} / {row['uncached_state']})")
    s = results["subscriptions"]
    print(f"subscriptions: {s['connected']}/{s['subscribers']} subscribers × {s['events']} events, "
          f"{s['deliveries']} deliveries (of {s['connected'] * s['events']}), "
          f"Kafka produce → client p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms")
    t = results["throughput"]
    print(f"throughput: {t['clients']} clients × {t['seconds']:.0f} s on a cached query: {t['rps']:.0f} rps, "
          f"{t['errors']} errors, API RSS {t['rss_mb']:.0f} MB")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    sys.exit(main())
