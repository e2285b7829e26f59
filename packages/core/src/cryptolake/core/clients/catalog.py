"""The shared Iceberg catalog (JDBC catalog in PostgreSQL, warehouse on S3) for pyiceberg."""

from __future__ import annotations

from typing import Any

from cryptolake.core.clients.s3 import fileio_properties
from cryptolake.core.settings import Settings, get_settings


def catalog_properties(settings: Settings | None = None) -> dict[str, str]:
    s = settings or get_settings()
    return {
        "uri": s.postgres_dsn,
        "warehouse": f"s3://{s.s3.bucket}",
        "init_catalog_tables": "false",
        **fileio_properties(s),
    }


def load_catalog(settings: Settings | None = None) -> Any:
    """A pyiceberg ``SqlCatalog`` named like the catalog in Trino and Spark (``lakehouse``)."""
    from pyiceberg.catalog.sql import SqlCatalog

    s = settings or get_settings()
    return SqlCatalog(s.lakehouse.catalog, **catalog_properties(s))
