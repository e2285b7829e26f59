"""Waiting for the running stream job to catch up with Kafka.

When the supervised Kafka → Bronze stream runs, the pipeline's Bronze step does not start a
second query on the same checkpoint: it reads the topics' end offsets, then waits until the
stream's checkpoint has *committed* a batch reaching them (Spark writes ``offsets/<batch>`` before
running a batch and ``commits/<batch>`` after it, so only committed batches count).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from cryptolake.core import Settings, TransientError
from cryptolake.core.clients import consumer_config, topic_name

Offsets = dict[tuple[str, int], int]


def kafka_end_offsets(topics: Iterable[str], settings: Settings) -> Offsets:
    """The next offset to be written, per (prefixed topic, partition); missing topics skipped."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(consumer_config("cryptolake-catchup-probe", settings))
    try:
        ends: Offsets = {}
        metadata = consumer.list_topics(timeout=10)
        for topic in (topic_name(t, settings) for t in topics):
            if topic not in metadata.topics:
                continue
            for partition in metadata.topics[topic].partitions:
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10
                )
                ends[(topic, partition)] = high
        return ends
    finally:
        consumer.close()


def committed_offsets(checkpoint: Path) -> Offsets:
    """The end offsets of the newest batch the stream committed (empty before the first)."""
    commits = [int(p.name) for p in (checkpoint / "commits").glob("*") if p.name.isdigit()]
    if not commits:
        return {}
    lines = (checkpoint / "offsets" / str(max(commits))).read_text().splitlines()
    out: Offsets = {}
    for line in lines[2:]:  # "v1", the batch metadata, then one line per source
        for topic, partitions in json.loads(line).items():
            for partition, offset in partitions.items():
                out[(topic, int(partition))] = int(offset)
    return out


def lagging(ends: Offsets, committed: Offsets) -> Offsets:
    """Partitions whose committed offset is behind the end offset, with the records missing."""
    return {
        tp: end - committed.get(tp, 0) for tp, end in ends.items() if committed.get(tp, 0) < end
    }


def records_between(before: Offsets, after: Offsets) -> int:
    """Records committed between two checkpoint states (a partition absent before: from 0)."""
    return sum(max(0, o - before.get(tp, 0)) for tp, o in after.items())


def wait_caught_up(
    topics: Iterable[str], checkpoint: Path, settings: Settings, *, timeout_s: float = 900.0
) -> Offsets:
    """Block until the stream has committed everything in ``topics`` as of now; return the
    offsets reached. :class:`TransientError` after ``timeout_s``."""
    ends = kafka_end_offsets(list(topics), settings)
    deadline = time.monotonic() + timeout_s
    while True:
        committed = committed_offsets(checkpoint)
        behind = lagging(ends, committed)
        if not behind:
            return {tp: committed.get(tp, 0) for tp in ends}
        if time.monotonic() > deadline:
            raise TransientError(
                f"the stream job is {sum(behind.values())} records behind Kafka after "
                f"{timeout_s:.0f}s ({behind}); see `cryptolake stream status`"
            )
        time.sleep(1.0)
