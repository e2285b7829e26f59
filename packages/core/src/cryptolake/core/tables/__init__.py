"""Table contracts: every Iceberg table's schema, partitioning and sort order, declared once.

A :class:`TableContract` is engine-neutral; it renders itself for pyiceberg
(:meth:`~TableContract.iceberg_schema`, :meth:`~TableContract.partition_spec`,
:meth:`~TableContract.sort_order`), for pyarrow (:meth:`~TableContract.arrow_schema`) and for Spark
SQL (:meth:`~TableContract.spark_ddl`). :func:`ensure_table` creates a table from its contract or
evolves it (new optional columns are added through Iceberg schema evolution; nothing is dropped).

The layers' modules (``bronze``, ``silver``, ``ops``…) call :func:`register` at import time;
:func:`all_contracts` imports them all.
"""

from __future__ import annotations

from cryptolake.core.tables._contract import (
    Column,
    PartitionField,
    TableContract,
    all_contracts,
    ensure_table,
    get_contract,
    register,
)

__all__ = [
    "Column",
    "PartitionField",
    "TableContract",
    "all_contracts",
    "ensure_table",
    "get_contract",
    "register",
]
