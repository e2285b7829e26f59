"""Atomic publication of a layer: one row of ``ops.publications`` pins every table's snapshot.

Writers (the Silver gate, the Gold build) commit one row after their audit passed; readers
resolve the latest row of the layer and read each table at its pinned snapshot::

    pub = latest_publication(settings, "gold")
    sql = f"SELECT … FROM {pub.relation('fact_price_hourly', catalog)}"
    # -> "lakehouse"."gold"."fact_price_hourly" FOR VERSION AS OF 8312…

A failed gate commits nothing, so readers keep seeing the previous publication.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptolake.core.errors import ConfigError
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table
from cryptolake.core.tables.publications import PUBLICATIONS


@dataclass(frozen=True)
class Publication:
    """One publication of a layer: ``tables`` maps table name → pinned snapshot id."""

    publication_id: str
    layer: str
    namespace: str
    published_at: datetime
    tables: dict[str, int | None]
    inputs: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    previous_id: str | None = None

    def snapshot(self, table: str) -> int | None:
        try:
            return self.tables[table]
        except KeyError:
            raise ConfigError(
                f"publication {self.publication_id} of {self.layer} pins no table {table!r}; "
                f"it pins {', '.join(sorted(self.tables))}"
            ) from None

    def relation(self, table: str, catalog: str | None = None) -> str:
        """The SQL relation reading ``table`` as published (Trino syntax)."""
        prefix = f'"{catalog}".' if catalog else ""
        snap = self.snapshot(table)
        name = f'{prefix}"{self.namespace}"."{table}"'
        return f"{name} FOR VERSION AS OF {snap}" if snap is not None else name


def current_snapshots(settings: Settings, namespace: str) -> dict[str, int | None]:
    """Every Iceberg table of ``namespace`` (views left out) → its current snapshot id."""
    from cryptolake.core.clients import load_catalog

    catalog = load_catalog(settings)
    if (namespace,) not in {tuple(ns) for ns in catalog.list_namespaces()}:
        return {}
    out: dict[str, int | None] = {}
    for ident in catalog.list_tables(namespace):
        snap = catalog.load_table(ident).current_snapshot()
        out[ident[-1]] = snap.snapshot_id if snap else None
    return out


#: table properties a publication records and a failed gate restores (the incremental
#: watermarks of the jobs: they must move back with the table's snapshot)
RESTORED_PROPERTY_PREFIX = "cryptolake."


def current_properties(
    settings: Settings, namespace: str, prefix: str = RESTORED_PROPERTY_PREFIX
) -> dict[str, dict[str, str]]:
    """Every Iceberg table of ``namespace`` → its properties whose key starts with ``prefix``."""
    from cryptolake.core.clients import load_catalog

    catalog = load_catalog(settings)
    if (namespace,) not in {tuple(ns) for ns in catalog.list_namespaces()}:
        return {}
    return {
        ident[-1]: {k: v for k, v in catalog.load_table(ident).properties.items()
                    if k.startswith(prefix)}
        for ident in catalog.list_tables(namespace)
    }


@dataclass(frozen=True)
class Restored:
    """What :func:`restore_published` did to one table."""

    table: str
    action: str  # "rolled back" | "emptied" | "unchanged" | "left (not published)"
    from_snapshot: int | None
    to_snapshot: int | None


def restore_published(
    settings: Settings, layer: str, namespace: str, *, ops_namespace: str | None = None,
) -> list[Restored]:
    """Put every table of ``namespace`` back at the snapshot its latest publication pins.

    The write-audit-publish rollback of a layer written in place (Silver): after a failed gate,
    the tables — the audit area — are exactly as published before, and so are the properties the
    publication recorded (the jobs' incremental watermarks), so the next run recomputes what the
    failed run wrote, from the layer below. A table pinned with no snapshot (empty when
    published) is emptied; a table the publication does not know is left as it is; with no
    publication at all nothing is touched (there is no audited state to go back to).
    """
    from cryptolake.core.clients import load_catalog

    pub = latest_publication(settings, layer, namespace, ops_namespace=ops_namespace)
    if pub is None:
        return []
    catalog = load_catalog(settings)
    saved: dict[str, dict[str, str]] = pub.inputs.get("properties", {})
    out: list[Restored] = []
    for ident in catalog.list_tables(namespace):
        name = ident[-1]
        table = catalog.load_table(ident)
        current = table.current_snapshot()
        now = current.snapshot_id if current else None
        if name not in pub.tables:
            out.append(Restored(name, "left (not published)", now, now))
            continue
        pinned = pub.tables[name]
        action = "unchanged"
        if now != pinned:
            if pinned is None:
                from pyiceberg.expressions import AlwaysTrue

                table.delete(AlwaysTrue())
                action = "emptied"
            else:
                table.manage_snapshots().set_current_snapshot(snapshot_id=pinned).commit()
                action = "rolled back"
        if name in saved:
            table = catalog.load_table(ident)
            props = {k: v for k, v in table.properties.items()
                     if k.startswith(RESTORED_PROPERTY_PREFIX)}
            want = saved[name]
            if props != want:
                with table.transaction() as tx:
                    gone = [k for k in props if k not in want]
                    if gone:
                        tx.remove_properties(*gone)
                    if want:
                        tx.set_properties(want)
                action = action if action != "unchanged" else "properties restored"
        out.append(Restored(name, action, now, pinned))
    return out


def _table(settings: Settings, ops_namespace: str | None = None) -> Any:
    from cryptolake.core.clients import load_catalog

    return ensure_table(load_catalog(settings), PUBLICATIONS, namespace=ops_namespace)


def publish_layer(
    settings: Settings,
    layer: str,
    namespace: str,
    tables: dict[str, int | None],
    *,
    run_id: str | None = None,
    inputs: dict[str, Any] | None = None,
    ops_namespace: str | None = None,
) -> Publication:
    """Commit one publication of ``layer`` (one Iceberg append: atomic for every reader)."""
    import pyarrow as pa

    previous = latest_publication(settings, layer, namespace, ops_namespace=ops_namespace)
    pub = Publication(
        publication_id=uuid.uuid4().hex,
        layer=layer,
        namespace=namespace,
        published_at=datetime.now(UTC),
        tables=dict(sorted(tables.items())),
        inputs=dict(inputs or {}),
        run_id=run_id,
        previous_id=previous.publication_id if previous else None,
    )
    row = {
        "publication_id": pub.publication_id,
        "layer": layer,
        "namespace": namespace,
        "published_at": pub.published_at,
        "run_id": run_id,
        "tables": json.dumps(pub.tables, sort_keys=True),
        "inputs": json.dumps(pub.inputs, sort_keys=True, default=str),
        "previous_id": pub.previous_id,
    }
    _table(settings, ops_namespace).append(
        pa.Table.from_pylist([row], schema=PUBLICATIONS.arrow_schema())
    )
    return pub


def _from_row(row: dict[str, Any]) -> Publication:
    return Publication(
        publication_id=row["publication_id"],
        layer=row["layer"],
        namespace=row["namespace"],
        published_at=row["published_at"],
        tables={k: (int(v) if v is not None else None) for k, v in json.loads(row["tables"]).items()},
        inputs=json.loads(row["inputs"]) if row.get("inputs") else {},
        run_id=row.get("run_id"),
        previous_id=row.get("previous_id"),
    )


def latest_publication(
    settings: Settings, layer: str, namespace: str | None = None, *,
    ops_namespace: str | None = None,
) -> Publication | None:
    """The newest publication of ``layer`` (of ``namespace``, when given), or ``None``."""
    from pyiceberg.expressions import And, EqualTo

    expr: Any = EqualTo("layer", layer)  # type: ignore[call-arg, misc, arg-type]
    if namespace is not None:
        expr = And(expr, EqualTo("namespace", namespace))  # type: ignore[call-arg, misc, arg-type]
    rows = _table(settings, ops_namespace).scan(row_filter=expr).to_arrow().to_pylist()
    if not rows:
        return None
    newest = max(rows, key=lambda r: (r["published_at"], r["publication_id"]))
    return _from_row(newest)
