"""Publication of Gold: audited marts copied into the published schema, then one atomic record.

Write-audit-publish for Gold:

- **write**: dbt builds every model into the audit schema (``gold_audit``);
- **audit**: the Gold gate checks it (:mod:`cryptolake.processing.quality.gate`);
- **publish**: each audited mart updates its published copy (``gold.<mart>``): an incremental
  mart by merging the rows its builds rewrote since that copy, any other by replacing it whole;
  and then **one**
  row of ``ops.publications`` pins the snapshot id of every published mart
  (:func:`cryptolake.core.pipeline.publish_layer`). That row is the publication: readers that
  resolve it (the API, ML training) read every mart at its pinned snapshot and never see new facts
  with old dimensions, even while the copies are being replaced or after a crash between two of
  them (the next build publishes again).

When the gate fails, :func:`rollback` puts every table of the audit schema back to the snapshot
it had before the build (tables the build created are dropped), and nothing is published: the
published state and the audit area are exactly as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from cryptolake.core import Settings, get_settings
from cryptolake.processing.dbt.config import (
    AUDIT_SCHEMA,
    MART_PARTITIONING,
    MARTS,
    PUBLISHED_SCHEMA,
)

log = logging.getLogger(__name__)


def table_snapshots(settings: Settings, namespace: str) -> dict[str, int | None]:
    """Every Iceberg table of ``namespace`` (views left out) → its current snapshot id."""
    from cryptolake.core.pipeline import current_snapshots

    return current_snapshots(settings, namespace)


def _execute(cur: Any, statement: str, params: list[Any] | None = None) -> list[Any]:
    if params is None:
        cur.execute(statement)
    else:
        cur.execute(statement, params)
    return list(cur.fetchall())


def rollback(
    settings: Settings, namespace: str, before: Mapping[str, int | None]
) -> dict[str, str]:
    """Put ``namespace`` back to ``before`` (table → snapshot id, from :func:`table_snapshots`):
    changed tables are rolled back to their snapshot, tables created since are dropped.
    Returns what was done per table."""
    from cryptolake.core.clients import connect

    now = table_snapshots(settings, namespace)
    catalog = settings.lakehouse.catalog
    done: dict[str, str] = {}
    conn = connect(settings)
    try:
        cur = conn.cursor()
        for table, snapshot in sorted(now.items()):
            ident = f'{catalog}."{namespace}"."{table}"'
            if table not in before:
                _execute(cur, f"DROP TABLE IF EXISTS {ident}")
                done[table] = "dropped"
            elif before[table] != snapshot and before[table] is not None:
                _execute(cur, f"ALTER TABLE {ident} EXECUTE rollback_to_snapshot({before[table]})")
                done[table] = f"rolled back to {before[table]}"
    finally:
        conn.close()
    if done:
        log.warning("audit schema %s restored: %s", namespace, done)
    return done


def _columns(cur: Any, schema: str, table: str) -> list[tuple[str, str]]:
    rows = _execute(
        cur,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    )
    return [(str(c), str(t)) for c, t in rows]


def _content(cur: Any, relation: str, schema: str, table: str) -> tuple[Any, ...] | None:
    """(columns with their types, rows, order-insensitive checksum of every column) of a table,
    or ``None`` when it does not exist."""
    cols = _columns(cur, schema, table)
    if not cols:
        return None
    row = ", ".join(f'"{c}"' for c, _ in cols)
    (n, digest), = _execute(cur, f"SELECT count(*), to_hex(checksum(ROW({row}))) FROM {relation}")
    return tuple(map(tuple, cols)), n, digest


#: A build that rewrote more than this share of a mart is published by a copy, not a MERGE.
COPY_ABOVE_SHARE = 0.5


def _publish_changes(
    cur: Any, audited: str, published: str, audit_schema: str, published_schema: str, table: str
) -> int | None:
    """Publish an incremental mart by merging only the audited rows its builds wrote since the
    published copy was made: rows ``loaded_at`` later than the copy's newest. Returns the rows
    merged (0: nothing to publish, the published snapshot stays), or ``None`` where a whole copy
    is needed: no published copy yet, columns differ, no ``loaded_at`` or key, most of the mart
    rewritten (a full refresh), or the merged copy's row count differs from the audited one (a
    row the build deleted)."""
    from cryptolake.core.tables import get_contract

    try:
        key = list(get_contract(f"gold.{table}").key)
    except Exception:  # - a mart without a contract: copy it
        return None
    cols = _columns(cur, audit_schema, table)
    names = [c for c, _ in cols]
    if not key or "loaded_at" not in names or cols != _columns(cur, published_schema, table):
        return None
    (mark, n_published), = _execute(cur, f"SELECT max(loaded_at), count(*) FROM {published}")
    if mark is None:
        return None
    (n_audited, n_new), = _execute(
        cur, f"SELECT count(*), count(*) FILTER (WHERE loaded_at > ?) FROM {audited}", [mark]
    )
    if n_new == 0 and n_audited == n_published:
        log.info("%s.%s unchanged (%d rows, none loaded since %s): not copied",
                 published_schema, table, n_audited, mark)
        return 0
    if n_new > COPY_ABOVE_SHARE * max(n_audited, 1):
        return None
    quoted = [f'"{c}"' for c in names]
    on = " AND ".join(f't."{k}" = s."{k}"' for k in key)
    sets = ", ".join(f"{q} = s.{q}" for q in quoted if q.strip('"') not in key)
    _execute(
        cur,
        f"MERGE INTO {published} t USING (SELECT * FROM {audited} WHERE loaded_at > ?) s "
        f"ON {on} WHEN MATCHED THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(quoted)}) "
        f"VALUES ({', '.join('s.' + q for q in quoted)})",
        [mark],
    )
    (n_after,), = _execute(cur, f"SELECT count(*) FROM {published}")
    if n_after != n_audited:
        log.warning("%s.%s: %d rows after the merge, %d audited: copying it whole",
                    published_schema, table, n_after, n_audited)
        return None
    log.info("merged %d row(s) of %s.%s loaded since %s into %s.%s",
             n_new, audit_schema, table, mark, published_schema, table)
    return int(n_new)


#: Marts published at once: each is a few small Trino statements waiting on the coordinator.
PUBLISH_THREADS = 3


def _publish_mart(settings: Settings, audit_schema: str, published_schema: str,
                  table: str) -> int:
    """Bring ``published_schema.table`` up to its audited copy on a connection of its own;
    returns the rows written (0: unchanged)."""
    from cryptolake.core.clients import connect

    catalog = settings.lakehouse.catalog
    audited = f'{catalog}."{audit_schema}"."{table}"'
    published = f'{catalog}."{published_schema}"."{table}"'
    ident = f"{published_schema}.{table}"
    conn = connect(settings)
    try:
        cur = conn.cursor()
        merged = _publish_changes(cur, audited, published, audit_schema, published_schema, table)
        if merged is not None:
            return merged
        have = _content(cur, published, published_schema, table)
        if have is not None and have == _content(cur, audited, audit_schema, table):
            log.info("%s unchanged (%d rows, checksum %s): not copied", ident, have[1], have[2])
            return 0
        parts = MART_PARTITIONING.get(table, ())
        with_clause = (
            " WITH (partitioning = ARRAY[" + ", ".join(f"'{p}'" for p in parts) + "])"
            if parts
            else ""
        )
        rows = _execute(
            cur,
            f"CREATE OR REPLACE TABLE {published}{with_clause} AS SELECT * FROM {audited}",
        )
        written = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
        log.info("copied %s.%s -> %s (%d rows)", audit_schema, table, ident, written)
        return written
    finally:
        conn.close()


def publish_marts(
    *,
    settings: Settings | None = None,
    audit_schema: str = AUDIT_SCHEMA,
    published_schema: str = PUBLISHED_SCHEMA,
    tables: Sequence[str] = MARTS,
    rows_out: dict[str, int] | None = None,
    threads: int | None = None,
) -> dict[str, int | None]:
    """Copy the audited marts into the published schema; returns ``schema.table`` → new snapshot.

    An incremental mart takes only the rows rewritten since its published copy
    (:func:`_publish_changes`); any other table is replaced with ``CREATE OR REPLACE TABLE … AS
    SELECT`` (a merge and an Iceberg replace both keep
    the table's history, so a reader pinned to an earlier publication still reads it). A mart whose
    audited copy holds exactly the published rows (same columns, row count and checksum of every
    column) is not copied: it keeps its snapshot, so a rerun over the same input publishes the same
    snapshot ids (readers' caches and the models' lineage stay valid). The copies are not atomic
    together; :func:`publish_gold` commits the record that makes them so. ``threads`` marts
    (default :data:`PUBLISH_THREADS`) are published at once, each on its own connection; the
    first error is raised once every mart has ended.
    """
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from cryptolake.core.clients import connect

    settings = settings or get_settings()
    catalog = settings.lakehouse.catalog
    conn = connect(settings)
    try:
        _execute(conn.cursor(), f'CREATE SCHEMA IF NOT EXISTS {catalog}."{published_schema}"')
    finally:
        conn.close()
    threads = PUBLISH_THREADS if threads is None else threads
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(tables) or 1)),
                            thread_name_prefix="publish") as pool:
        futures = {t: pool.submit(contextvars.copy_context().run, _publish_mart, settings,
                                  audit_schema, published_schema, t)
                   for t in tables}  # each in a copy of this context: its logs keep the run id
    for table in tables:  # every mart has ended: report in order, raise the first error
        written = futures[table].result()
        if rows_out is not None:
            rows_out[f"{published_schema}.{table}"] = written
    current = table_snapshots(settings, published_schema)
    return {f"{published_schema}.{t}": current.get(t) for t in tables}


def publish_gold(
    settings: Settings,
    *,
    audit_schema: str,
    published_schema: str,
    run_id: str,
    inputs: dict[str, Any],
    ops_namespace: str | None = None,
    rows_out: dict[str, int] | None = None,
) -> tuple[dict[str, int | None], Any]:
    """Copy the marts, then commit the Gold publication; returns (snapshots, publication)."""
    from cryptolake.core.pipeline import publish_layer

    snapshots = publish_marts(
        settings=settings, audit_schema=audit_schema, published_schema=published_schema,
        rows_out=rows_out,
    )
    pub = publish_layer(
        settings, "gold", published_schema,
        {ident.split(".", 1)[1]: snap for ident, snap in snapshots.items()},
        run_id=run_id, inputs=inputs, ops_namespace=ops_namespace,
    )
    log.info("gold publication %s: %s", pub.publication_id, pub.tables)
    return snapshots, pub
