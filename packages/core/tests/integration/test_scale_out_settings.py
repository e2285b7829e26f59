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


def test_no_service_log_holds_a_secret(lakehouse_settings: Settings) -> None:
    s = lakehouse_settings
    # the PostgreSQL placeholder is also the user and database name: check the distinct secrets
    secrets = {s.s3.secret_key.get_secret_value(), s.redis.password.get_secret_value()}
    secrets |= set(s.secret_values())
    logs = sorted((s.home / "logs").glob("*.log"))
    assert logs, "the running stack writes its services' logs here"
    for log in logs:
        text = log.read_text(errors="replace")
        leaked = [x for x in secrets if len(x) >= 8 and x in text]
        assert not leaked, f"{log.name} holds a secret"
