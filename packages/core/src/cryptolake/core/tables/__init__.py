"""Table contracts: every Iceberg table's schema, partitioning and sort order, declared once.

A :class:`TableContract` is engine-neutral; it renders itself for pyiceberg
(:meth:`~TableContract.iceberg_schema`, :meth:`~TableContract.partition_spec`,
:meth:`~TableContract.sort_order`), for pyarrow (:meth:`~TableContract.arrow_schema`) and for Spark
SQL (:meth:`~TableContract.spark_ddl`). :func:`ensure_table` creates a table from its contract or
evolves it (new optional columns are added through Iceberg schema evolution; nothing is dropped).

The core's tables are declared in ``bronze``, ``silver`` and ``ops`` (:func:`all_contracts`,
:func:`get_contract`); a plugin declares its own in the ``cryptolake_register_tables(tables)``
hook, and ``host.tables`` (a :class:`TableRegistry`) holds both. Nothing is registered at import.
"""

from __future__ import annotations

from cryptolake.core.tables._contract import (
    COLUMN_TYPES,
    Column,
    ColumnType,
    PartitionField,
    TableContract,
    ensure_table,
)
from cryptolake.core.tables._registry import (
    CORE_OWNER,
    TableRegistry,
    all_contracts,
    builtin_contracts,
    get_contract,
)

__all__ = [
    "COLUMN_TYPES",
    "CORE_OWNER",
    "Column",
    "ColumnType",
    "PartitionField",
    "TableContract",
    "TableRegistry",
    "all_contracts",
    "builtin_contracts",
    "ensure_table",
    "get_contract",
]
