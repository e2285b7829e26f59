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


def transaction(table: Any) -> Any:
    """A pyiceberg transaction on ``table`` that works out its pending metadata once per change.

    pyiceberg's ``Transaction.table_metadata`` applies the pending updates to the table's
    metadata and deep-copies the result on every access, and one ``overwrite`` reads it some 36
    times: for a table with a few hundred snapshots (``ops.pipeline_runs`` records every step)
    that copying was most of each commit. This one keeps the result until the metadata or the
    updates change (both are replaced, never mutated, so identity tells). Use it as
    ``with transaction(table) as tx: tx.overwrite(...)``; it commits on leaving the block like
    ``table.transaction()``.
    """
    from pyiceberg.table import Transaction
    from pyiceberg.table.update import update_table_metadata

    class _Transaction(Transaction):
        _memo: tuple[Any, Any, Any] | None = None

        @property
        def table_metadata(self) -> Any:
            memo = self._memo
            if memo is None or memo[0] is not self._table.metadata or memo[1] is not self._updates:
                memo = (self._table.metadata, self._updates,
                        update_table_metadata(self._table.metadata, self._updates))
                self._memo = memo
            return memo[2]

    return _Transaction(table)
