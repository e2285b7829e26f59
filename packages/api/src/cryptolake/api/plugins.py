"""What plugins may add to the schema (hook ``cryptolake_register_api_fields``).

A plugin exposes a lakehouse table as a type and a root field without touching this package::

    @hookimpl
    def cryptolake_register_api_fields(registry):
        registry.add_table("exampleTicks", table="silver.example_ticks", type_name="ExampleTick",
                           columns={"tick": "Int", "value": "Float", "at": "DateTime"},
                           order_by=("tick",), description="Ticks of the example source")

The field takes ``first``, ``after`` and ``asOf``, answers a cursor connection, reads with ``?``
parameters through the same pinned reader as the built-in fields (snapshots in ``extensions``,
a ``quality`` field on the type) and is cached and cost-limited like them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

_NAME = re.compile(r"^[a-z][A-Za-z0-9]{1,50}$")
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{1,50}$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SCALARS: dict[str, type] = {"String": str, "Int": int, "Float": float, "Boolean": bool,
                            "DateTime": datetime, "Date": date}


@dataclass(frozen=True)
class TableField:
    name: str
    table: str
    type_name: str
    columns: dict[str, str]
    order_by: tuple[str, ...]
    description: str = ""
    plugin: str = ""


@dataclass
class ApiRegistry:
    fields: dict[str, TableField] = field(default_factory=dict)
    current_plugin: str = ""
    reserved: frozenset[str] = frozenset()

    def add_table(self, name: str, *, table: str, type_name: str, columns: dict[str, str],
                  order_by: tuple[str, ...] | list[str] = (), description: str = "") -> None:
        from cryptolake.core import PluginError

        who = self.current_plugin or "a plugin"
        if not _NAME.match(name) or name in self.reserved or name in self.fields:
            raise PluginError(who, f"API field name {name!r} is invalid or already taken")
        if not _TYPE_NAME.match(type_name):
            raise PluginError(who, f"API type name {type_name!r} must be PascalCase")
        ns, _, tname = table.partition(".")
        if not (_IDENT.match(ns) and _IDENT.match(tname)):
            raise PluginError(who, f"table {table!r} must read namespace.table")
        for col, kind in columns.items():
            if not _IDENT.match(col) or kind not in SCALARS:
                raise PluginError(who, f"column {col!r}: type {kind!r} must be one of {sorted(SCALARS)}")
        order = tuple(order_by) or (next(iter(columns)),)
        if any(c not in columns for c in order):
            raise PluginError(who, f"order_by {order} names columns not in {sorted(columns)}")
        self.fields[name] = TableField(name, table, type_name, dict(columns), order, description, who)

    def discard_plugin(self, plugin: str) -> None:
        """Drop every field ``plugin`` added (it raised while adding them)."""
        for name in [n for n, f in self.fields.items() if f.plugin == plugin]:
            del self.fields[name]


def collect(host: Any, reserved: set[str]) -> ApiRegistry:
    """Ask every plugin of ``host`` for its API fields (through the host's typed method); a
    plugin that raises is logged and what it added is dropped."""
    registry = ApiRegistry(reserved=frozenset(reserved))
    host.register_api_fields(registry)
    return registry


def build_field(tf: TableField) -> tuple[Any, Any]:
    """A strawberry type and a resolver for one plugin table field."""
    import strawberry
    from strawberry.types import Info

    from cryptolake.api.common import AsOf, Connection, connection, decode_cursor, page_size, reader
    from cryptolake.api.lakehouse import MissingTableError
    from cryptolake.api.market.types import LakehouseRow
    from cryptolake.api.repositories import keyset, where

    ns: dict[str, Any] = {"__annotations__": {c: SCALARS[k] | None for c, k in tf.columns.items()}}
    for c in tf.columns:
        ns[c] = None
    node_type = strawberry.type(type(tf.type_name, (LakehouseRow,), ns),
                                description=tf.description or f"rows of {tf.table}")
    kinds = tuple(SCALARS[tf.columns[c]] for c in tf.order_by)
    cols = ", ".join(tf.columns)
    order = ", ".join(tf.order_by)

    async def resolve(info: Info, first: int | None = None, after: str | None = None,
                      as_of: AsOf | None = None) -> Connection[node_type]:  # type: ignore[valid-type]
        n = page_size(info, first)
        cur = decode_cursor(after, kinds)
        r = reader(info, as_of, tf.table)
        ks, kp = keyset(list(tf.order_by), cur, False)
        try:
            rows = await r.query(f"SELECT {cols} FROM {{t}} {where([ks])} ORDER BY {order} LIMIT ?",
                                 {"t": tf.table}, [*kp, n + 1])
        except MissingTableError:
            rows = []
        nodes = [node_type(table_=tf.table, reader_=r, **row) for row in rows]
        return connection(nodes, n, lambda x: [getattr(x, c) for c in tf.order_by])

    resolve.__annotations__ = {"info": Info, "first": int | None, "after": str | None,
                               "as_of": AsOf | None, "return": Connection[node_type]}  # type: ignore[valid-type]
    return node_type, strawberry.field(resolver=resolve, description=tf.description or None)
