"""Trino DBAPI connections to the shared ``lakehouse`` catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptolake.core.settings import Settings, get_settings


def connect(
    settings: Settings | None = None,
    schema: str | None = None,
    *,
    catalog: str | None = None,
    request_timeout: float = 300.0,
) -> Any:
    """A ``trino.dbapi`` connection to the lakehouse catalog (optionally a schema in it)."""
    import trino

    s = settings or get_settings()
    return trino.dbapi.connect(
        host=s.trino.host,
        port=s.trino.port,
        user=s.trino.user,
        http_scheme="http",
        catalog=catalog or s.lakehouse.catalog,
        schema=schema,
        request_timeout=request_timeout,
    )


def query(
    sql: str,
    params: Sequence[Any] | None = None,
    *,
    settings: Settings | None = None,
    schema: str | None = None,
) -> list[tuple[Any, ...]]:
    """Run one statement with ``?`` parameters and return all rows as tuples."""
    conn = connect(settings, schema)
    try:
        cur = conn.cursor()
        if params:
            cur.execute(sql, list(params))
        else:
            cur.execute(sql)
        rows = cur.fetchall()
        return [tuple(r) for r in rows]
    finally:
        conn.close()
