"""Reading the lakehouse without blocking the event loop.

- :class:`Lakehouse` (one per process): a bounded thread pool for the synchronous ``trino`` client
  (one connection — one HTTP session — per pool thread), the Iceberg catalog table in PostgreSQL
  (each table's current metadata location, one indexed query) and the metadata files on S3 (the
  snapshots of a table; read once per metadata location, which is immutable).
- :class:`Reader` (one per root field): pins every table it reads to one snapshot — the current
  one, or the one ``asOf`` names — and renders ``FROM <table> FOR VERSION AS OF <id>``. Trino
  takes no parameter there: the id is an integer found in the table's own metadata. What it read is reported in the response's ``extensions``.

Every statement is sent with ``?`` parameters; table names come from code, never from a request.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from cryptolake.api import metrics
from cryptolake.api.errors import BeforeFirstCommitError, UnknownSnapshotError
from cryptolake.core import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotLog:
    """A table's snapshots as one metadata file states them."""

    current: int | None
    #: (snapshot id, committed at ms), in commit order
    snapshots: tuple[tuple[int, int], ...]
    #: (snapshot id, became current at ms): what FOR TIMESTAMP AS OF follows
    history: tuple[tuple[int, int], ...]
    #: rows of the current snapshot (its summary's total-records), when stated
    total_records: int | None = None

    def committed_ms(self, snapshot_id: int) -> int | None:
        for sid, ms in self.snapshots:
            if sid == snapshot_id:
                return ms
        return None

    def at(self, ms: int) -> int | None:
        found = None
        for sid, t in self.history:
            if t <= ms:
                found = sid
        return found


class MissingTableError(Exception):
    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.table = table


class Lakehouse:
    def __init__(self, settings: Settings, threads: int = 8) -> None:
        self.settings = settings
        self.catalog = settings.lakehouse.catalog
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trino")
        self._local = threading.local()
        self._engine: Any = None
        self._s3: Any = None
        self._logs: OrderedDict[str, SnapshotLog] = OrderedDict()
        self._lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------------
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            from cryptolake.core.clients import connect

            conn = self._local.conn = connect(self.settings, request_timeout=120.0)
        return conn

    def _run_sync(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            cur = self._conn().cursor()
            cur.execute(sql, list(params))
            rows = cur.fetchall()
            names = [d[0] for d in cur.description or ()]
        except Exception:
            self._local.conn = None
            raise
        finally:
            metrics.TRINO_SECONDS.observe(time.perf_counter() - started)
        return [dict(zip(names, r, strict=False)) for r in rows]

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one parameterised statement on a pool thread; rows as dicts."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._run_sync, sql, tuple(params))

    def engine(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.settings.postgres_dsn, pool_size=4, max_overflow=4,
                                         pool_pre_ping=True)
        return self._engine

    def _s3_client(self) -> Any:
        if self._s3 is None:
            from cryptolake.core.clients import s3_client

            self._s3 = s3_client(self.settings)
        return self._s3

    # -- catalog -------------------------------------------------------------------------------
    def _locations_sync(self) -> dict[str, str]:
        from sqlalchemy import text

        with self.engine().connect() as c:
            rows = c.execute(
                text("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables "
                     "WHERE catalog_name = :c"),
                {"c": self.catalog},
            ).all()
        return {f"{ns}.{name}": loc for ns, name, loc in rows if loc}

    async def locations(self) -> dict[str, str]:
        """``namespace.table`` → its current metadata location (changes with every commit)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._locations_sync)

    def _snapshot_log_sync(self, location: str) -> SnapshotLog:
        with self._lock:
            if location in self._logs:
                self._logs.move_to_end(location)
                return self._logs[location]
        url = urlparse(location)
        body = self._s3_client().get_object(Bucket=url.netloc, Key=url.path.lstrip("/"))["Body"].read()
        if location.endswith(".gz.metadata.json") or body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        meta = json.loads(body)
        current = meta.get("current-snapshot-id")
        snaps = tuple((int(s["snapshot-id"]), int(s["timestamp-ms"])) for s in meta.get("snapshots", []))
        history = tuple((int(h["snapshot-id"]), int(h["timestamp-ms"])) for h in meta.get("snapshot-log", []))
        current = current if current not in (None, -1) else None
        total = None
        for snap in meta.get("snapshots", []):
            if snap.get("snapshot-id") == current:
                raw = (snap.get("summary") or {}).get("total-records")
                total = int(raw) if raw is not None else None
        result = SnapshotLog(current, snaps, history, total)
        with self._lock:
            self._logs[location] = result
            while len(self._logs) > 512:
                self._logs.popitem(last=False)
        return result

    async def snapshot_log(self, location: str) -> SnapshotLog:
        known = self._logs.get(location)  # metadata files are immutable: no thread hop when seen
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._snapshot_log_sync, location)

    async def current_snapshots(self, tables: Sequence[str] | None = None) -> dict[str, int | None]:
        locs = await self.locations()
        wanted = [t for t in (tables if tables is not None else sorted(locs)) if t in locs]
        logs = await asyncio.gather(*(self.snapshot_log(locs[t]) for t in wanted))
        return {t: lg.current for t, lg in zip(wanted, logs, strict=True)}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()


@dataclass
class AsOfSpec:
    snapshot_id: int | None = None
    timestamp: datetime | None = None

    @property
    def immutable(self) -> bool:
        return self.snapshot_id is not None or self.timestamp is not None

    def key(self) -> str:
        if self.snapshot_id is not None:
            return f"v{self.snapshot_id}"
        if self.timestamp is not None:
            return f"t{self.timestamp.isoformat()}"
        return ""


@dataclass
class Reader:
    """Resolves and pins the snapshot of every table one root field reads."""

    lakehouse: Lakehouse
    as_of: AsOfSpec = field(default_factory=AsOfSpec)
    #: the table whose snapshot id ``as_of.snapshot_id`` names (the root field's own table)
    primary: str | None = None
    read: dict[str, int | None] = field(default_factory=dict)
    _locations: dict[str, str] | None = None
    _at_ms: int | None = None

    async def _locs(self) -> dict[str, str]:
        if self._locations is None:
            self._locations = await self.lakehouse.locations()
        return self._locations

    async def snapshot(self, table: str) -> int | None:
        """The snapshot of ``table`` this reader reads; ``None`` for an empty table."""
        if table in self.read:
            return self.read[table]
        locs = await self._locs()
        if table not in locs:
            raise MissingTableError(table)
        lg = await self.lakehouse.snapshot_log(locs[table])
        sid: int | None
        if self.as_of.snapshot_id is not None and (self.primary is None or table == self.primary):
            sid = self.as_of.snapshot_id
            ms = lg.committed_ms(sid)
            if ms is None:
                known = ", ".join(str(s) for s, _ in lg.snapshots[-5:]) or "none"
                raise UnknownSnapshotError(
                    f"table {table} has no snapshot {sid}; its latest snapshots are: {known} "
                    "(see dataHealth.tables.lastSnapshotId, or pass asOf: {timestamp: ...})",
                    table=table, snapshotId=str(sid),
                )
            self._at_ms = ms
        elif self.as_of.timestamp is not None or self._at_ms is not None:
            ms = self._at_ms if self._at_ms is not None else int(self.as_of.timestamp.timestamp() * 1000)  # type: ignore[union-attr]
            sid = lg.at(ms)
            if sid is None:
                when = datetime.fromtimestamp(ms / 1000, UTC).isoformat()
                raise BeforeFirstCommitError(
                    f"table {table} has no snapshot at or before {when}; its first commit was at "
                    + (datetime.fromtimestamp(lg.history[0][1] / 1000, UTC).isoformat()
                       if lg.history else "never"),
                    table=table,
                )
        else:
            sid = lg.current
        self.read[table] = sid
        return sid

    async def source(self, table: str) -> tuple[str, list[Any]]:
        """``lakehouse.<table> FOR VERSION AS OF <id>`` (no clause for an empty table)."""
        sid = await self.snapshot(table)
        ref = f"{self.lakehouse.catalog}.{table}"
        if sid is None:
            return ref, []
        # Trino takes no parameter in FOR VERSION AS OF: the id is an int found in the table's
        # own metadata (a requested id is checked against it first), rendered as a literal
        return f"{ref} FOR VERSION AS OF {int(sid)}", []

    async def query(self, sql: str, tables: dict[str, str], params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run ``sql``: each ``{name}`` is replaced by the pinned reference of ``tables[name]``
        (with its snapshot parameter), each ``?`` takes the next of ``params``, in order."""
        return await self.lakehouse.query(*await self.render(sql, tables, params))

    async def render(self, sql: str, tables: dict[str, str], params: Sequence[Any] = ()) -> tuple[str, list[Any]]:
        import re

        out: list[str] = []
        bound: list[Any] = []
        rest = list(params)
        pos = 0
        for m in re.finditer(r"\{(\w+)\}|\?", sql):
            out.append(sql[pos:m.start()])
            pos = m.end()
            if m.group(1):
                ref, ps = await self.source(tables[m.group(1)])
                out.append(ref)
                bound.extend(ps)
            else:
                out.append("?")
                bound.append(rest.pop(0))
        out.append(sql[pos:])
        if rest:
            raise ValueError(f"{len(rest)} parameters left over for: {sql[:80]}")
        return "".join(out), bound
