"""Small clients of the lakehouse services, shared by every package.

- :func:`load_catalog` — the pyiceberg ``SqlCatalog`` named like Trino's and Spark's catalog;
  :func:`transaction` — a pyiceberg write transaction that copies the metadata once per change.
- :func:`connect`, :func:`query` — Trino DBAPI on the ``lakehouse`` catalog.
- :func:`s3_client`, :func:`ensure_bucket` — the warehouse object store.
- :func:`producer_config`, :func:`consumer_config`, :func:`admin_config`,
  :func:`ensure_topics` — Kafka.
- :func:`spark_session` — a local SparkSession on the same catalog, offline.

Each imports its third-party library lazily, so importing this package is cheap.
"""

from cryptolake.core.clients.catalog import catalog_properties, load_catalog, transaction
from cryptolake.core.clients.kafka import (
    admin_config,
    consumer_config,
    delete_topics,
    ensure_topics,
    producer_config,
    topic_name,
)
from cryptolake.core.clients.s3 import ensure_bucket, fileio_properties, s3_client
from cryptolake.core.clients.spark import (
    checkpoint_location,
    spark_conf,
    spark_jars,
    spark_session,
)
from cryptolake.core.clients.trino import connect, query

__all__ = [
    "admin_config",
    "catalog_properties",
    "checkpoint_location",
    "connect",
    "consumer_config",
    "delete_topics",
    "ensure_bucket",
    "ensure_topics",
    "fileio_properties",
    "load_catalog",
    "producer_config",
    "query",
    "s3_client",
    "spark_conf",
    "spark_jars",
    "spark_session",
    "topic_name",
    "transaction",
]
