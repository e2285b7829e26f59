"""The shared Kafka producer of the streaming sources (idempotent, ``acks=all``, key = symbol).

Message contract (see docs/sources.md): topic ``<prefix>binance.aggtrade`` /
``<prefix>binance.kline_<interval>``; key = the symbol (UTF-8); value = the exchange's JSON event,
verbatim when it came from the websocket; headers ``source``, ``layout``, ``origin``,
``fetched_at`` (epoch ms, ASCII) and ``payload_sha256`` (hex SHA-256 of the value).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from hashlib import sha256
from typing import Any

from cryptolake.core import Settings, TransientError
from cryptolake.core.clients import ensure_topics, producer_config, topic_name
from cryptolake.ingest._records import Record, now_ms

log = logging.getLogger(__name__)


class KafkaSink:
    """Produces :class:`Record` s; counts what the broker acknowledged."""

    def __init__(
        self,
        settings: Settings,
        source: str,
        *,
        topics: Iterable[str] = (),
        partitions: int = 1,
        **overrides: Any,
    ) -> None:
        from confluent_kafka import Producer

        self.settings = settings
        self.source = source.encode()
        self._source_header = ("source", self.source)
        self._static: dict[tuple[str, int | None], tuple[Any, Any, Any]] = {}
        conf = producer_config(
            settings,
            **{
                "linger.ms": 50,
                "batch.num.messages": 10000,
                "queue.buffering.max.messages": 500000,
                **overrides,
            },
        )
        self.producer = Producer(conf)
        self._produce = self.producer.produce
        self.sent = 0
        self.acked = 0
        self.failed: list[str] = []
        self.by_topic: dict[str, int] = {}
        self._topics: dict[str, str] = {}
        wanted = [self.topic(t) for t in topics]
        if wanted:
            ensure_topics(wanted, settings, partitions=partitions)

    def topic(self, name: str) -> str:
        full = self._topics.get(name)
        if full is None:
            full = self._topics[name] = topic_name(name, self.settings)
        return full

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is None:
            self.acked += 1
        else:
            self.failed.append(f"{msg.topic()} key={msg.key()!r}: {err}")

    def send(self, rec: Record, *, fetched_ms: int | None = None) -> None:
        """Produce one record; ``fetched_ms`` defaults to now (replay passes the file's read time)."""
        topic = self._topics.get(rec.topic) if rec.topic is not None else None
        if topic is None:
            if rec.topic is None:
                raise ValueError(f"record {rec.origin} has no Kafka topic")
            topic = self.topic(rec.topic)
        static = self._static.get((rec.layout, fetched_ms))
        if static is None:
            if len(self._static) > 1024:
                self._static.clear()
            static = self._static[(rec.layout, fetched_ms)] = (
                self._source_header,
                ("layout", rec.layout.encode()),
                ("fetched_at", str(fetched_ms).encode()) if fetched_ms is not None else None,
            )
        payload = rec.payload
        headers = [
            static[0],
            static[1],
            ("origin", rec.origin.encode()),
            static[2] or ("fetched_at", str(now_ms()).encode()),
            ("payload_sha256", sha256(payload).hexdigest().encode()),
        ]
        try:
            self._produce(
                topic,
                value=payload,
                key=rec.key.encode(),
                headers=headers,
                on_delivery=self._delivered,
            )
        except BufferError:
            while True:
                self.producer.poll(0.05)
                try:
                    self._produce(
                        topic,
                        value=payload,
                        key=rec.key.encode(),
                        headers=headers,
                        on_delivery=self._delivered,
                    )
                    break
                except BufferError:
                    continue
        self.sent += 1
        self.by_topic[topic] = self.by_topic.get(topic, 0) + 1

    def send_many(self, records: Iterable[Record], *, fetched_ms: int) -> None:
        """Produce many records in order: :meth:`send` with its lookups hoisted out of the loop."""
        produce, poll, delivered = self._produce, self.producer.poll, self._delivered
        topics = self._topics
        keys: dict[str, bytes] = {}
        layouts: dict[str, tuple[str, bytes]] = {}
        source, fetched = self._source_header, ("fetched_at", str(fetched_ms).encode())
        by_topic = self.by_topic
        sent = 0
        for rec in records:
            topic = topics.get(rec.topic) if rec.topic is not None else None
            if topic is None:
                if rec.topic is None:
                    raise ValueError(f"record {rec.origin} has no Kafka topic")
                topic = self.topic(rec.topic)
            key = keys.get(rec.key)
            if key is None:
                key = keys[rec.key] = rec.key.encode()
            layout = layouts.get(rec.layout)
            if layout is None:
                layout = layouts[rec.layout] = ("layout", rec.layout.encode())
            payload = rec.payload
            headers: list[Any] = [
                source,
                layout,
                ("origin", rec.origin.encode()),
                fetched,
                ("payload_sha256", sha256(payload).hexdigest().encode()),
            ]
            while True:
                try:
                    produce(topic, value=payload, key=key, headers=headers, on_delivery=delivered)
                    break
                except BufferError:
                    poll(0.05)
            by_topic[topic] = by_topic.get(topic, 0) + 1
            sent += 1
        self.sent += sent

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every message is acknowledged; raise if any was not."""
        deadline = time.monotonic() + timeout
        while len(self.producer) and time.monotonic() < deadline:
            self.producer.flush(min(5.0, max(0.1, deadline - time.monotonic())))
        if len(self.producer):
            raise TransientError(
                f"Kafka did not acknowledge {len(self.producer)} messages within {timeout:.0f}s "
                f"({self.settings.kafka.bootstrap_servers}); is the broker up? "
                "(`cryptolake stack status`)"
            )
        if self.failed:
            raise TransientError(
                f"Kafka refused {len(self.failed)} messages, e.g. {self.failed[0]}"
            )
