"""What ``stack up`` creates once the services answer: catalog database and tables, bucket,
namespaces, Kafka topics. Every step is idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from cryptolake.core.settings import Settings

log = logging.getLogger(__name__)

#: The Iceberg JDBC catalog schema V1 (with ``iceberg_type``), as Iceberg Java and pyiceberg 0.12
#: create it. Trino's JDBC catalog never creates these tables itself.
CATALOG_DDL = (
    """CREATE TABLE IF NOT EXISTS iceberg_tables (
        catalog_name VARCHAR(255) NOT NULL,
        table_namespace VARCHAR(255) NOT NULL,
        table_name VARCHAR(255) NOT NULL,
        metadata_location VARCHAR(1000),
        previous_metadata_location VARCHAR(1000),
        iceberg_type VARCHAR(5),
        PRIMARY KEY (catalog_name, table_namespace, table_name))""",
    """CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
        catalog_name VARCHAR(255) NOT NULL,
        namespace VARCHAR(255) NOT NULL,
        property_key VARCHAR(255) NOT NULL,
        property_value VARCHAR(1000),
        PRIMARY KEY (catalog_name, namespace, property_key))""",
    "ALTER TABLE iceberg_tables ADD COLUMN IF NOT EXISTS iceberg_type VARCHAR(5)",
)


def _pg_connect(settings: Settings, dbname: str) -> Any:
    import psycopg2

    pg = settings.postgres
    return psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password.get_secret_value(),
        dbname=dbname,
        connect_timeout=10,
    )


def ensure_catalog_database(settings: Settings) -> bool:
    """Create the catalog database if it is missing; True if created."""
    conn = _pg_connect(settings, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (settings.postgres.database,)
            )
            if cur.fetchone():
                return False
            cur.execute(f'CREATE DATABASE "{settings.postgres.database}"')
            return True
    finally:
        conn.close()


def ensure_catalog_tables(settings: Settings) -> None:
    conn = _pg_connect(settings, settings.postgres.database)
    try:
        with conn, conn.cursor() as cur:
            for ddl in CATALOG_DDL:
                cur.execute(ddl)
    finally:
        conn.close()


def ensure_namespaces(settings: Settings) -> list[str]:
    """Create the lakehouse namespaces (bronze, silver, gold, ops, ml); returns those created."""
    from cryptolake.core.clients.catalog import load_catalog

    catalog = load_catalog(settings)
    existing = {ns[0] for ns in catalog.list_namespaces()}
    created = []
    for ns in settings.lakehouse.namespaces:
        if ns not in existing:
            catalog.create_namespace_if_not_exists(ns)
            created.append(ns)
    return created


def ensure_bucket(settings: Settings) -> bool:
    from cryptolake.core.clients.s3 import ensure_bucket as _ensure

    return _ensure(settings)


def declared_topics(settings: Settings | None = None) -> list[str]:
    """The Kafka topics the installed source plugins declare (topic prefix applied).

    Asks the core plugin manager (``build_plugin_manager().sources.topics()``); when it cannot be
    imported, or a plugin fails to load, there are none and a warning is logged: a broken plugin
    must not keep the stack from starting.
    """
    try:
        from cryptolake.core.manager import build_plugin_manager
    except ImportError:
        return []
    try:
        host = build_plugin_manager(settings, strict=False)
        topics = host.sources.topics()
    except Exception as exc:
        log.warning("could not read the topics declared by plugins: %s", exc)
        return []
    from cryptolake.core.clients.kafka import topic_name

    return sorted(topic_name(t, settings) for t in topics)


def ensure_declared_topics(settings: Settings) -> list[str]:
    from cryptolake.core.clients.kafka import ensure_topics

    return ensure_topics(declared_topics(settings), settings)


def verify_trino_catalog(settings: Settings) -> None:
    """Trino sees the lakehouse catalog and its namespaces (fails if the catalog is miswired)."""
    from cryptolake.core.clients.trino import query

    schemas = {
        r[0] for r in query(f"SHOW SCHEMAS FROM {settings.lakehouse.catalog}", settings=settings)
    }
    missing = [ns for ns in settings.lakehouse.namespaces if ns not in schemas]
    if missing:
        raise RuntimeError(
            f"Trino's {settings.lakehouse.catalog} catalog lacks namespaces {', '.join(missing)}"
        )


def main(attempts: int = 60) -> int:
    """Every bootstrap step against the configured services (``python -m`` this module; the
    compose ``bootstrap`` job), each retried while its service is still starting."""
    import time

    from cryptolake.core.logging import configure
    from cryptolake.core.settings import get_settings

    configure()
    settings = get_settings()
    steps = (
        ensure_catalog_database,
        ensure_catalog_tables,
        ensure_bucket,
        ensure_namespaces,
        ensure_declared_topics,
    )
    for step in steps:
        for attempt in range(attempts):
            try:
                log.info("%s: %s", step.__name__, step(settings))
                break
            except Exception as exc:  # - a service still starting: wait and retry
                if attempt == attempts - 1:
                    log.error("%s failed: %s", step.__name__, exc)
                    return 1
                time.sleep(2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
