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


def wait_until_ready(
    settings: Settings | None = None,
    *,
    timeout_s: float | None = None,
    on_wait: Any = None,
) -> float:
    """Block until Trino answers a query on the lakehouse catalog; returns the seconds waited.

    A step that needs Trino can then start while Trino is still coming up (``make demo`` starts
    the pipeline's Spark steps beside Trino's start). ``timeout_s`` defaults to
    ``trino.start_timeout_s``; ``on_wait(message)`` is called once if it has to wait. Raises
    :class:`~cryptolake.core.errors.ServiceError` with Trino's last answer when it runs out."""
    import time

    from cryptolake.core.errors import ServiceError

    s = settings or get_settings()
    limit = s.trino.start_timeout_s if timeout_s is None else timeout_s
    t0 = time.monotonic()
    last: Exception | None = None
    while True:
        try:
            query(f"SHOW SCHEMAS FROM {s.lakehouse.catalog}", settings=s)
            return time.monotonic() - t0
        except Exception as exc:  # refused, SERVER_STARTING_UP, the catalog not loaded yet
            last = exc
        waited = time.monotonic() - t0
        if waited >= limit:
            raise ServiceError(
                "trino",
                f"did not answer within {limit:.0f}s at {s.trino.host}:{s.trino.port}: {last}",
                "see `cryptolake stack status` and `cryptolake stack logs trino`",
            )
        if on_wait is not None and last is not None:
            on_wait(f"waiting for Trino ({type(last).__name__})")
            on_wait = None
        time.sleep(1.0)
