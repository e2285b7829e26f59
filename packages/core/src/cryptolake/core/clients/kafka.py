"""Kafka client configuration and topic management (confluent-kafka)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from cryptolake.core.settings import Settings, get_settings

HEALTH_TOPIC = "_cryptolake_health"

#: librdkafka logs of the health probes go here (not to stderr): refused connections while Kafka
#: starts are expected (pass it as the client's ``logger``).
probe_log = logging.getLogger("cryptolake.core.clients.kafka.probe")
probe_log.propagate = False
probe_log.addHandler(logging.NullHandler())


def _base(settings: Settings | None) -> dict[str, Any]:
    s = settings or get_settings()
    return {"bootstrap.servers": s.kafka.bootstrap_servers}


def producer_config(settings: Settings | None = None, **overrides: Any) -> dict[str, Any]:
    """An idempotent producer: acks=all, no duplicates on retry, ordering kept per key."""
    return {
        **_base(settings),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "compression.type": "zstd",
        **overrides,
    }


def consumer_config(
    group_id: str, settings: Settings | None = None, **overrides: Any
) -> dict[str, Any]:
    """A consumer that commits only when told to (after the Iceberg commit)."""
    return {
        **_base(settings),
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        **overrides,
    }


def admin_config(settings: Settings | None = None, **overrides: Any) -> dict[str, Any]:
    return {**_base(settings), **overrides}


def topic_name(name: str, settings: Settings | None = None) -> str:
    """``name`` with the configured topic prefix (``CRYPTOLAKE_KAFKA__TOPIC_PREFIX``)."""
    return (settings or get_settings()).kafka.topic_prefix + name


def ensure_topics(
    topics: Iterable[str],
    settings: Settings | None = None,
    *,
    partitions: int = 1,
    config: dict[str, str] | None = None,
    timeout: float = 30.0,
    client_config: dict[str, Any] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet (names used as given); returns those created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    wanted = sorted(set(topics))
    if not wanted:
        return []
    admin = AdminClient(admin_config(settings, **(client_config or {})))
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                t,
                num_partitions=partitions,
                replication_factor=(settings or get_settings()).kafka.replication_factor,
                config=config or {},
            )
            for t in missing
        ],
        operation_timeout=timeout,
    )
    created = []
    for name, fut in futures.items():
        try:
            fut.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def delete_topics(
    topics: Iterable[str], settings: Settings | None = None, timeout: float = 30.0
) -> None:
    from confluent_kafka.admin import AdminClient

    names = list(topics)
    if not names:
        return
    admin = AdminClient(admin_config(settings))
    for fut in admin.delete_topics(names, operation_timeout=timeout).values():
        try:
            fut.result(timeout)
        except Exception:
            pass


def round_trip(settings: Settings | None = None, timeout: float = 10.0) -> None:
    """Produce one message to the health topic and read it back (the Kafka health probe)."""
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient

    settings = settings or get_settings()
    quiet = {"logger": probe_log}
    AdminClient(admin_config(settings, **quiet)).list_topics(timeout=timeout)  # reachable?
    ensure_topics(
        [HEALTH_TOPIC],
        settings,
        timeout=timeout,
        config={"retention.ms": "3600000"},
        client_config=quiet,
    )
    token = uuid.uuid4().hex.encode()
    producer = Producer(
        producer_config(
            settings, **{"linger.ms": 0, **quiet, "message.timeout.ms": int(timeout * 1000)}
        )
    )
    delivered: list[Any] = []
    producer.produce(
        HEALTH_TOPIC, value=token, on_delivery=lambda err, msg: delivered.append((err, msg))
    )
    producer.flush(timeout)
    if not delivered or delivered[0][0] is not None:
        raise KafkaException(delivered[0][0] if delivered else "produce timed out")
    msg = delivered[0][1]
    consumer = Consumer(consumer_config("cryptolake-health", settings, **quiet))
    try:
        consumer.assign([TopicPartition(HEALTH_TOPIC, msg.partition(), msg.offset())])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = consumer.poll(0.5)
            if got is None:
                continue
            if got.error():
                raise KafkaException(got.error())
            if got.value() == token:
                return
        raise TimeoutError("the probe message was produced but not consumed back")
    finally:
        consumer.close()
