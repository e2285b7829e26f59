"""The shared Bronze writer of the batch sources: append-only, idempotent on rerun.

Rows are buffered per table and appended through pyiceberg. Before appending, the writer reads the
(natural key, ``payload_sha256``) pairs already stored in the batch's event-time range and drops
rows that are there already, so running a source twice over the same window adds nothing.
Rejects go to ``bronze.rejects`` (deduplicated on source, origin and raw hash).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.ingest._records import Record, Reject, ms_to_dt, now_ms

log = logging.getLogger(__name__)

#: Event-time column of each Bronze feed table.
TIME_COLUMN = {
    "binance_klines": "open_time",
    "binance_agg_trades": "trade_time",
    "coingecko_market_chart": "ts",
    "coingecko_markets": "last_updated",
    "fear_greed": "ts",
    "rejects": "rejected_at",
}


def _expressions() -> Any:
    """pyiceberg's row-filter classes (untyped here: their pydantic signatures confuse mypy)."""
    from pyiceberg import expressions

    return expressions


@dataclass
class TableOutcome:
    written: int = 0
    duplicates: int = 0
    snapshot_id: int | None = None


@dataclass
class KafkaMeta:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None


@dataclass
class BronzeWriter:
    """Buffers rows per Bronze table and appends them, skipping what is already stored."""

    catalog: Any
    source: str
    namespace: str = "bronze"
    batch_rows: int = 200_000
    outcomes: dict[str, TableOutcome] = field(default_factory=lambda: defaultdict(TableOutcome))
    _rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    _tables: dict[str, Any] = field(default_factory=dict)
    on_commit: Any = None  # callable(table_identifier, snapshot_id, rows)

    def table(self, name: str) -> Any:
        if name not in self._tables:
            self._tables[name] = ensure_table(
                self.catalog, get_contract(f"bronze.{name}"), namespace=self.namespace
            )
        return self._tables[name]

    def identifier(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def add(
        self, rec: Record, *, ingested_ms: int | None = None, kafka: KafkaMeta | None = None
    ) -> None:
        row = dict(rec.bronze_row())
        row.update(
            source=self.source,
            layout=rec.layout,
            origin=rec.origin,
            ingested_at=ms_to_dt(ingested_ms if ingested_ms is not None else now_ms()),
            kafka_topic=kafka.topic if kafka else None,
            kafka_partition=kafka.partition if kafka else None,
            kafka_offset=kafka.offset if kafka else None,
            payload=rec.payload.decode("utf-8", errors="replace"),
            payload_sha256=rec.payload_sha256,
        )
        self._append(rec.feed, row)

    def reject(
        self, rej: Reject, *, kafka: KafkaMeta | None = None, at: datetime | None = None
    ) -> None:
        log.warning("%s: rejected %s (%s): %s", self.source, rej.origin, rej.layout, rej.reason)
        self._append(
            "rejects",
            {
                "source": self.source,
                "feed": rej.feed,
                "layout": rej.layout,
                "origin": rej.origin,
                "reason": rej.reason,
                "raw": rej.raw_text,
                "raw_sha256": rej.raw_sha256,
                "rejected_at": at or datetime.now(UTC),
                "kafka_topic": kafka.topic if kafka else None,
                "kafka_partition": kafka.partition if kafka else None,
                "kafka_offset": kafka.offset if kafka else None,
            },
        )

    def _append(self, feed: str, row: dict[str, Any]) -> None:
        rows = self._rows[feed]
        rows.append(row)
        if len(rows) >= self.batch_rows:
            self._flush_table(feed)

    def pending(self) -> int:
        return sum(len(r) for r in self._rows.values())

    def flush(self) -> dict[str, TableOutcome]:
        for feed in list(self._rows):
            self._flush_table(feed)
        return dict(self.outcomes)

    def _existing(self, feed: str, table: Any, rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
        x = _expressions()
        And, EqualTo, GreaterThanOrEqual, LessThanOrEqual = (
            x.And,
            x.EqualTo,
            x.GreaterThanOrEqual,
            x.LessThanOrEqual,
        )
        contract = get_contract(f"bronze.{feed}")
        if feed == "rejects":
            cols = ["source", "origin", "raw_sha256"]
            expr: Any = EqualTo("source", self.source)
        else:
            cols = [*contract.key, "payload_sha256"]
            tcol = TIME_COLUMN[feed]
            lo = min(r[tcol] for r in rows)
            hi = max(r[tcol] for r in rows)
            expr = And(
                GreaterThanOrEqual(tcol, lo.isoformat()), LessThanOrEqual(tcol, hi.isoformat())
            )
        if table.current_snapshot() is None:
            return set()
        got = table.scan(row_filter=expr, selected_fields=tuple(cols)).to_arrow()
        columns = [got.column(c).to_pylist() for c in cols]
        return set(zip(*columns, strict=True))

    def _flush_table(self, feed: str) -> None:
        import pyarrow as pa

        rows = self._rows.pop(feed, [])
        if not rows:
            return
        contract = get_contract(f"bronze.{feed}")
        table = self.table(feed)
        cols = (
            ["source", "origin", "raw_sha256"]
            if feed == "rejects"
            else [*contract.key, "payload_sha256"]
        )
        existing = self._existing(feed, table, rows)
        fresh, seen = [], set()
        for r in rows:
            k = tuple(r[c] for c in cols)
            if k in existing or k in seen:
                continue
            seen.add(k)
            fresh.append(r)
        out = self.outcomes[feed]
        out.duplicates += len(rows) - len(fresh)
        if not fresh:
            log.info(
                "%s: nothing new for %s (%d already stored)",
                self.source,
                self.identifier(feed),
                len(rows),
            )
            return
        tcol = TIME_COLUMN[feed]
        sort_keys = [c for c in contract.sort_by]
        fresh.sort(key=lambda r: tuple(r[c] for c in sort_keys) if sort_keys else r[tcol])
        arrow = pa.Table.from_pylist(fresh, schema=contract.arrow_schema())
        from cryptolake.core.clients import transaction

        with transaction(table) as tx:  # one metadata copy per change, not per access
            tx.append(arrow)
        snap = table.current_snapshot()
        out.written += len(fresh)
        out.snapshot_id = snap.snapshot_id if snap else None
        log.info(
            "%s: appended %d rows to %s (snapshot %s, %d duplicates skipped)",
            self.source,
            len(fresh),
            self.identifier(feed),
            out.snapshot_id,
            len(rows) - len(fresh),
        )
        if self.on_commit is not None:
            self.on_commit(self.identifier(feed), out.snapshot_id, len(fresh))

    def last_time(self, feed: str, **equals: Any) -> datetime | None:
        """The newest event time stored for ``feed`` where every ``column == value``."""
        x = _expressions()
        AlwaysTrue, And, EqualTo = x.AlwaysTrue, x.And, x.EqualTo
        table = self.table(feed)
        if table.current_snapshot() is None:
            return None
        expr: Any = AlwaysTrue()
        for col, value in equals.items():
            expr = And(expr, EqualTo(col, value))
        tcol = TIME_COLUMN[feed]
        got = table.scan(row_filter=expr, selected_fields=(tcol,)).to_arrow()
        if got.num_rows == 0:
            return None
        import pyarrow.compute as pc

        value = pc.max(got.column(tcol)).as_py()
        return value
