"""Scale-out settings reach the real engines (Kafka here; Spark's in the unit tests)."""

from __future__ import annotations

import pytest

from cryptolake.core.settings import Settings

pytestmark = pytest.mark.integration


def test_the_topic_replication_factor_setting_reaches_kafka(lakehouse_settings: Settings) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients import admin_config, ensure_topics, topic_name

    s = lakehouse_settings
    three = s.model_copy(update={"kafka": s.kafka.model_copy(update={"replication_factor": 3})})
    with pytest.raises(KafkaException, match="(?i)replication"):  # one broker cannot hold 3
        ensure_topics([topic_name("rf3", three)], three, timeout=15)
    name = topic_name("rf1", s)
    assert ensure_topics([name], s, timeout=15) == [name]
    meta = AdminClient(admin_config(s)).list_topics(name, timeout=15).topics[name]
    assert len(meta.partitions[0].replicas) == 1
