"""What a table contract is: columns, partitioning, sort order, key — and ``ensure_table``.

A leaf module: the layers' modules (``bronze``, ``silver``, ``ops``) import it; it imports none of
them. pyiceberg and pyarrow are imported only by the renderings that need them (the
``lakehouse`` extra).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cryptolake.core.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.sorting import SortOrder

#: A column type: one of :data:`COLUMN_TYPES` or ``decimal(p,s)``.
ColumnType = str
#: The column types a contract may use (besides ``decimal(p,s)``), as Iceberg names them.
COLUMN_TYPES: tuple[str, ...] = (
    "string", "long", "int", "double", "boolean", "date", "timestamptz", "timestamp", "binary",
)
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES = frozenset(COLUMN_TYPES)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in _SIMPLE_TYPES and not _DECIMAL.match(self.type):
            raise ConfigError(
                f"column {self.name!r}: unknown type {self.type!r}; use one of "
                f"{', '.join(COLUMN_TYPES)} or decimal(p,s)"
            )

    def iceberg_type(self) -> Any:
        from pyiceberg import types as t

        simple = {
            "string": t.StringType(),
            "long": t.LongType(),
            "int": t.IntegerType(),
            "double": t.DoubleType(),
            "boolean": t.BooleanType(),
            "date": t.DateType(),
            "timestamptz": t.TimestamptzType(),
            "timestamp": t.TimestampType(),
            "binary": t.BinaryType(),
        }
        if self.type in simple:
            return simple[self.type]
        m = _DECIMAL.match(self.type)
        assert m
        return t.DecimalType(int(m.group(1)), int(m.group(2)))

    def arrow_type(self) -> pa.DataType:
        import pyarrow as pa

        simple = {
            "string": pa.string(),
            "long": pa.int64(),
            "int": pa.int32(),
            "double": pa.float64(),
            "boolean": pa.bool_(),
            "date": pa.date32(),
            "timestamptz": pa.timestamp("us", tz="UTC"),
            "timestamp": pa.timestamp("us"),
            "binary": pa.binary(),
        }
        if self.type in simple:
            return simple[self.type]
        m = _DECIMAL.match(self.type)
        assert m
        return pa.decimal128(int(m.group(1)), int(m.group(2)))

    def spark_type(self) -> str:
        return {
            "string": "STRING",
            "long": "BIGINT",
            "int": "INT",
            "double": "DOUBLE",
            "boolean": "BOOLEAN",
            "date": "DATE",
            "timestamptz": "TIMESTAMP",
            "timestamp": "TIMESTAMP_NTZ",
            "binary": "BINARY",
        }.get(self.type, self.type.upper())


@dataclass(frozen=True)
class PartitionField:
    column: str
    transform: Literal["identity", "day", "month", "year", "hour"] | str = "day"

    def spark(self) -> str:
        if self.transform == "identity":
            return self.column
        if self.transform.startswith("bucket["):
            n = self.transform[len("bucket[") : -1]
            return f"bucket({n}, {self.column})"
        return f"{self.transform}s({self.column})" if self.transform != "day" else f"days({self.column})"


@dataclass(frozen=True)
class TableContract:
    """One Iceberg table: ``namespace.name``, its columns, partitioning, sort order, keys."""

    namespace: str
    name: str
    columns: tuple[Column, ...]
    partition_by: tuple[PartitionField, ...] = ()
    sort_by: tuple[str, ...] = ()
    #: Natural key: what MERGE INTO and the duplicate checks use.
    key: tuple[str, ...] = ()
    doc: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ConfigError(f"table {self.identifier}: duplicate column names")
        for col in (*[p.column for p in self.partition_by], *self.sort_by, *self.key):
            if col not in names:
                raise ConfigError(f"table {self.identifier}: unknown column {col!r}")

    @property
    def identifier(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    # -- renderings --------------------------------------------------------------------------

    def iceberg_schema(self) -> Schema:
        from pyiceberg.schema import Schema
        from pyiceberg.types import NestedField

        return Schema(
            *[
                NestedField(i + 1, c.name, c.iceberg_type(), required=c.required, doc=c.doc or None)
                for i, c in enumerate(self.columns)
            ]
        )

    def partition_spec(self, schema: Schema | None = None) -> PartitionSpec:
        from pyiceberg.partitioning import PartitionField as IcebergPartitionField
        from pyiceberg.partitioning import PartitionSpec
        from pyiceberg.transforms import parse_transform

        schema = schema or self.iceberg_schema()
        fields = []
        for i, p in enumerate(self.partition_by):
            source = schema.find_field(p.column)
            transform = parse_transform(p.transform)
            fields.append(
                IcebergPartitionField(
                    source_id=source.field_id,
                    field_id=1000 + i,
                    transform=transform,
                    name=p.column if p.transform == "identity" else f"{p.column}_{p.transform}",
                )
            )
        return PartitionSpec(*fields)

    def sort_order(self, schema: Schema | None = None) -> SortOrder:
        from pyiceberg.table.sorting import SortField, SortOrder
        from pyiceberg.transforms import IdentityTransform

        schema = schema or self.iceberg_schema()
        return SortOrder(
            *[
                SortField(source_id=schema.find_field(c).field_id, transform=IdentityTransform())
                for c in self.sort_by
            ]
        )

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema(
            [pa.field(c.name, c.arrow_type(), nullable=not c.required) for c in self.columns]
        )

    def spark_ddl(self, catalog: str) -> str:
        cols = ",\n  ".join(
            f"{c.name} {c.spark_type()}{' NOT NULL' if c.required else ''}" for c in self.columns
        )
        ddl = f"CREATE TABLE IF NOT EXISTS {catalog}.{self.identifier} (\n  {cols}\n) USING iceberg"
        if self.partition_by:
            ddl += " PARTITIONED BY (" + ", ".join(p.spark() for p in self.partition_by) + ")"
        return ddl


def ensure_table(catalog: Catalog, contract: TableContract, *, namespace: str | None = None) -> Table:
    """Create the table from its contract, or evolve an existing one to it (add columns only).

    ``namespace`` overrides the contract's namespace (tests use a private one).
    """
    from pyiceberg.exceptions import (
        NamespaceAlreadyExistsError,
        NoSuchTableError,
        TableAlreadyExistsError,
    )

    ns = namespace or contract.namespace
    ident = f"{ns}.{contract.name}"
    try:
        catalog.create_namespace(ns)
    except NamespaceAlreadyExistsError:
        pass
    try:
        table = catalog.load_table(ident)
    except NoSuchTableError:
        schema = contract.iceberg_schema()
        try:
            return catalog.create_table(
                ident,
                schema=schema,
                partition_spec=contract.partition_spec(schema),
                sort_order=contract.sort_order(schema),
                properties={"format-version": "2", **contract.properties},
            )
        except TableAlreadyExistsError:
            # another process (the CLI and a worker, two workers) created it meanwhile: use theirs
            table = catalog.load_table(ident)
    current = {f.name for f in table.schema().fields}
    missing = [c for c in contract.columns if c.name not in current]
    if missing:
        with table.update_schema() as update:
            for c in missing:
                update.add_column(c.name, c.iceberg_type(), doc=c.doc or None)
        table = catalog.load_table(ident)
    return table
