"""Pytest fixtures on the real lakehouse stack (registered by the core's pytest plugin).

- ``lakehouse_stack`` (session): installs what is missing (``setup``, a no-op when done) and brings
  the stack up once per run — a running stack is reused and only missing services are started; at the end it stops only the services it started itself
  (``--keep-stack`` keeps them).
- ``lakehouse_namespace`` (function): a fresh Iceberg namespace ``test_<random>``; afterwards its
  tables are dropped, their files deleted from the warehouse, and the namespace dropped.
- ``kafka_topic_prefix`` (function): a unique topic prefix ``test_<random>.``; every topic with it
  is deleted afterwards.
- ``lakehouse_settings`` (function): the stack's settings with that topic prefix applied.

Usage::

    @pytest.mark.integration
    def test_roundtrip(lakehouse_namespace):
        catalog = load_catalog()
        catalog.create_table(f"{lakehouse_namespace}.trades", schema)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from cryptolake.core.settings import Settings, get_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cryptolake")
    group.addoption(
        "--keep-stack",
        action="store_true",
        default=False,
        help="leave the services that the test run started running at the end",
    )


def _suffix() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def lakehouse_stack(request: pytest.FixtureRequest) -> Iterator[object]:
    """The running stack (:class:`cryptolake.core.stack.Stack`), all services healthy."""
    from cryptolake.core.stack import Stack

    stack = Stack(get_settings())
    if not stack.installed():
        stack.setup()  # a fresh machine: the first run downloads, later runs reuse the cache
    # not the Celery worker and beat: tests start their own (on a local cluster, the other
    # brokers, the Trino workers and the Spark standalone cluster too)
    result = stack.up(stack.infra())
    yield stack
    if result.started and not request.config.getoption("--keep-stack", default=False):
        stack.down(result.started)


@pytest.fixture
def lakehouse_namespace(lakehouse_stack: object) -> Iterator[str]:
    """A fresh Iceberg namespace, removed with its tables and their files afterwards."""
    from cryptolake.core.clients.catalog import load_catalog

    settings = lakehouse_stack.settings  # type: ignore[attr-defined]
    name = f"test_{_suffix()}"
    catalog = load_catalog(settings)
    catalog.create_namespace(name)
    yield name
    drop_namespace(name, settings)


def drop_namespace(name: str, settings: Settings) -> None:
    """Drop every table in ``name`` (metadata and data files) and the namespace itself."""
    from urllib.parse import urlparse

    from cryptolake.core.clients.catalog import load_catalog
    from cryptolake.core.clients.s3 import s3_client

    catalog = load_catalog(settings)
    s3 = s3_client(settings)
    for ident in catalog.list_tables(name):
        try:
            location = catalog.load_table(ident).location()
        except Exception:
            location = None
        catalog.drop_table(ident)
        if location:
            parsed = urlparse(location)
            _delete_prefix(s3, parsed.netloc, parsed.path.lstrip("/").rstrip("/") + "/")
    try:
        views = catalog.list_views(name)
    except NotImplementedError:  # pyiceberg's SqlCatalog has no views
        views = []
    for view in views:
        catalog.drop_view(view)
    catalog.drop_namespace(name)
    # Trino and Spark may also have written under the namespace's own directory
    _delete_prefix(s3, settings.s3.bucket, f"{name}/")
    _delete_prefix(s3, settings.s3.bucket, f"{name}.db/")


def _delete_prefix(s3: object, bucket: str, prefix: str) -> None:
    paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})  # type: ignore[attr-defined]


@pytest.fixture
def kafka_topic_prefix(lakehouse_stack: object) -> Iterator[str]:
    """A unique Kafka topic prefix; every topic that starts with it is deleted afterwards."""
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients.kafka import admin_config, delete_topics

    settings = lakehouse_stack.settings  # type: ignore[attr-defined]
    prefix = f"test_{_suffix()}."
    yield prefix
    admin = AdminClient(admin_config(settings))
    mine = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix)]
    delete_topics(mine, settings)


@pytest.fixture
def lakehouse_settings(lakehouse_stack: object, kafka_topic_prefix: str) -> Settings:
    """The stack's settings with this test's Kafka topic prefix."""
    settings: Settings = lakehouse_stack.settings  # type: ignore[attr-defined]
    kafka = settings.kafka.model_copy(update={"topic_prefix": kafka_topic_prefix})
    return settings.model_copy(update={"kafka": kafka})
