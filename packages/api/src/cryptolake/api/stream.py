"""One Kafka consumer per API process, fanned out to every subscriber (never polling Trino).

The consumer thread reads the trade, 1m kline, prediction and ops-event topics and hands each
parsed record to the event loop; subscribers get bounded queues per channel. The hub also keeps
the last records of each channel (``buffer_s`` seconds, read back from Kafka at start) so that a
subscription resumed with ``after`` can bridge the time a record takes to reach the lakehouse:
replay from the lakehouse, then this buffer, then live — deduplicated on the record's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptolake.api import metrics
from cryptolake.core import Settings

log = logging.getLogger(__name__)

TRADES_TOPIC = "binance.aggtrade"
KLINE_TOPIC = "binance.kline_1m"
PREDICTIONS_TOPIC = "ml.predictions"
EVENTS_TOPIC = "ops.events"


@dataclass(frozen=True)
class Event:
    channel: tuple[str, ...]
    key: Any
    data: dict[str, Any]
    #: when the hub received it (monotonic seconds), for latency figures
    received: float


def _ms(v: Any) -> datetime:
    return datetime.fromtimestamp(int(v) / 1000, UTC)


def parse(topic: str, value: bytes) -> list[tuple[tuple[str, ...], Any, dict[str, Any]]]:
    """Channel, key and fields of one Kafka record (records of other layouts are skipped)."""
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(raw, dict):
        return []
    ev = raw.get("data", raw) if "stream" in raw else raw
    if not isinstance(ev, dict):
        return []
    try:
        if topic == TRADES_TOPIC and ev.get("e") == "aggTrade":
            sym = str(ev["s"]).upper()
            row = {"symbol": sym, "agg_trade_id": int(ev["a"]), "price": float(ev["p"]),
                   "quantity": float(ev["q"]), "first_trade_id": ev.get("f"), "last_trade_id": ev.get("l"),
                   "trade_time": _ms(ev["T"]), "is_buyer_maker": ev.get("m")}
            return [(("trades", sym), row["agg_trade_id"], row)]
        if topic == KLINE_TOPIC and ev.get("e") == "kline":
            k = ev["k"]
            sym = str(ev.get("s") or k["s"]).upper()
            row = {"symbol": sym, "open_time": _ms(k["t"]), "open": float(k["o"]), "high": float(k["h"]),
                   "low": float(k["l"]), "close": float(k["c"]), "volume": float(k["v"]),
                   "quote_volume": float(k.get("q", 0) or 0), "trade_count": int(k.get("n", 0) or 0),
                   "final": bool(k.get("x")), "event_time": _ms(ev.get("E", k["T"]))}
            return [(("klines", sym), (int(k["t"]), row["final"]), row)]
        if topic == PREDICTIONS_TOPIC:
            sym = str(ev.get("symbol", "")).upper()
            return [(("predictions",), ev.get("prediction_id"), ev), (("predictions", sym), ev.get("prediction_id"), ev)]
        if topic == EVENTS_TOPIC:
            kind = ev.get("kind")
            if kind in ("alert", "run"):
                return [((kind + "s",), ev.get("id"), ev)]
    except (KeyError, TypeError, ValueError):
        return []
    return []


class Hub:
    def __init__(self, settings: Settings, buffer_s: float = 900.0, queue_size: int = 10_000) -> None:
        self.settings = settings
        self.buffer_s = buffer_s
        self.queue_size = queue_size
        self._subs: dict[tuple[str, ...], set[asyncio.Queue[Event]]] = defaultdict(set)
        self._recent: dict[tuple[str, ...], deque[Event]] = defaultdict(lambda: deque(maxlen=20_000))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.subscribers = 0

    def topics(self) -> list[str]:
        p = self.settings.kafka.topic_prefix
        return [p + t for t in (TRADES_TOPIC, KLINE_TOPIC, PREDICTIONS_TOPIC, EVENTS_TOPIC)]

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="kafka-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        from confluent_kafka import Consumer, TopicPartition

        from cryptolake.core.clients import consumer_config, ensure_topics

        prefix = self.settings.kafka.topic_prefix
        try:
            ensure_topics(self.topics(), self.settings)
        except Exception:  # - topics may exist already or be created by producers
            log.debug("ensure_topics failed", exc_info=True)
        conf = consumer_config(f"cryptolake-api-{uuid.uuid4().hex[:8]}", self.settings,
                               **{"auto.offset.reset": "latest", "isolation.level": "read_uncommitted",
                                  "fetch.wait.max.ms": 10, "fetch.min.bytes": 1})
        consumer = Consumer(conf)
        since = int((time.time() - self.buffer_s) * 1000)

        def on_assign(c: Any, parts: list[Any]) -> None:
            try:
                wanted = [TopicPartition(p.topic, p.partition, since) for p in parts]
                found = c.offsets_for_times(wanted, timeout=10)
                c.assign([TopicPartition(p.topic, p.partition, p.offset if p.offset >= 0 else -1)
                          for p in found])
            except Exception:
                c.assign(parts)
            self.ready.set()

        consumer.subscribe(self.topics(), on_assign=on_assign)
        try:
            while not self._stop.is_set():
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                full = msg.topic() or ""
                topic = full[len(prefix):] if prefix else full
                for channel, key, data in parse(topic, msg.value() or b""):
                    metrics.KAFKA_RECORDS.labels(topic).inc()
                    event = Event(channel, key, data, time.monotonic())
                    if self._loop is not None:
                        self._loop.call_soon_threadsafe(self._dispatch, event)
        finally:
            consumer.close()

    def _dispatch(self, event: Event) -> None:
        recent = self._recent[event.channel]
        recent.append(event)
        cutoff = time.monotonic() - self.buffer_s
        while recent and recent[0].received < cutoff:
            recent.popleft()
        for q in list(self._subs.get(event.channel, ())):
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()  # a slow subscriber loses its oldest events, never blocks others
            q.put_nowait(event)

    @contextlib.asynccontextmanager
    async def listen(self, channel: tuple[str, ...], field: str) -> AsyncIterator[asyncio.Queue[Event]]:
        q: asyncio.Queue[Event] = asyncio.Queue(maxsize=self.queue_size)
        self._subs[channel].add(q)
        self.subscribers += 1
        metrics.SUBSCRIPTIONS.labels(field).inc()
        try:
            yield q
        finally:
            self._subs[channel].discard(q)
            self.subscribers -= 1
            metrics.SUBSCRIPTIONS.labels(field).dec()

    def recent(self, channel: tuple[str, ...]) -> list[Event]:
        return list(self._recent.get(channel, ()))


_producer: Any = None
_producer_lock = threading.Lock()


def produce_event(settings: Settings, kind: str, payload: dict[str, Any]) -> None:
    """Publish an ops event (an alert or a run's step progress) for the subscriptions.

    One producer per process, delivering in the background: a job never waits for Kafka."""
    global _producer
    from confluent_kafka import Producer

    from cryptolake.core.clients import producer_config, topic_name

    with _producer_lock:
        if _producer is None:
            import atexit

            quiet = logging.getLogger("cryptolake.api.stream.producer")
            quiet.propagate = False  # a process without Kafka (unit tests) must not log its retries
            quiet.addHandler(logging.NullHandler())
            _producer = Producer(producer_config(settings, **{"linger.ms": 5,
                                                              "message.timeout.ms": 30_000}),
                                 logger=quiet)
            atexit.register(_producer.flush, 1)
    _producer.produce(topic_name(EVENTS_TOPIC, settings), key=str(payload.get("id", "")).encode(),
                      value=json.dumps({"kind": kind, **payload}, default=str).encode())
    _producer.poll(0)
