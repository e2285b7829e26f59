"""What the source jobs share: settings, the catalog, the Bronze writer, the summary figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from cryptolake.core import JobContext, JobResult

log = logging.getLogger(__name__)



def default_symbols() -> list[str]:
    """The exchange symbols of the followed coins (``CRYPTOLAKE_MARKETS__COINS``)."""
    from cryptolake.core.settings import get_settings

    return get_settings().markets.symbols


def default_coins() -> list[str]:
    """The CoinGecko ids of the followed coins (``CRYPTOLAKE_MARKETS__COINS``)."""
    from cryptolake.core.settings import get_settings

    return list(get_settings().markets.coins)


class BronzeTarget(BaseModel):
    namespace: str = Field("bronze", description="Iceberg namespace of the Bronze tables")


class LazyCatalog:
    """The pyiceberg catalog, loaded on first use (it costs seconds; a replay of Binance data
    alone never needs it)."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._catalog: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._catalog is None:
            from cryptolake.core.clients import load_catalog

            self._catalog = load_catalog(self._settings)
        return getattr(self._catalog, name)


def open_writer(ctx: JobContext, namespace: str, source: str | None = None) -> Any:
    from cryptolake.ingest.bronze import BronzeWriter

    return BronzeWriter(
        LazyCatalog(ctx.settings),
        source or ctx.name,
        namespace=namespace,
        on_commit=lambda table, snap, rows: ctx.committed(table, snap, rows),
    )


def alert_sink(
    ctx: JobContext, kind: str, severity: str = "error", *, namespace: str | None = None
) -> Any:
    """``alert(subject, message)``: append one row to ``ops.alerts`` (run id, kind, subject);
    ``namespace`` replaces ``ops`` (tests)."""
    catalog: Any = LazyCatalog(ctx.settings)

    def alert(subject: str, message: str) -> None:
        import uuid
        from datetime import UTC, datetime

        import pyarrow as pa

        from cryptolake.core.tables import ensure_table, get_contract

        contract = get_contract("ops.alerts")
        table = ensure_table(catalog, contract, namespace=namespace)
        row = {
            "alert_id": uuid.uuid4().hex,
            "run_id": ctx.run_id,
            "kind": kind,
            "severity": severity,
            "subject": subject,
            "message": message[:4000],
            "raised_at": datetime.now(UTC),
        }
        from cryptolake.core.clients import transaction

        with transaction(table) as tx:
            tx.append(pa.Table.from_pylist([row], schema=contract.arrow_schema()))
        log.error("alert %s (%s): %s", kind, subject, message)

    return alert


@dataclass
class Tally:
    """Running figures of one job, turned into a :class:`JobResult` at the end."""

    records_in: int = 0
    rejected: int = 0
    produced: int = 0
    gaps_found: int = 0
    gaps_filled: int = 0
    backfilled: int = 0
    duplicates_dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def reject_malformed(self, writer: Any, exc: Any, layout: str, feed: str) -> None:
        """Count a response the API sent malformed and dead-letter its body (first 64 KiB)."""
        from cryptolake.ingest._records import Reject

        self.records_in += 1
        self.rejected += 1
        writer.reject(
            Reject(f"malformed response: {exc.reason}", exc.body[:65536], layout, exc.url, feed)
        )

    def result(self, writer: Any = None, kafka: Any = None) -> JobResult:
        details: dict[str, Any] = {
            "records_in": self.records_in,
            "rejected": self.rejected,
            "gaps_found": self.gaps_found,
            "gaps_filled": self.gaps_filled,
            "backfilled": self.backfilled,
            "duplicates_dropped": self.duplicates_dropped,
            **self.extra,
        }
        written = 0
        snapshots: dict[str, int | None] = {}
        if writer is not None:
            tables = {}
            for feed, out in writer.outcomes.items():
                ident = writer.identifier(feed)
                tables[ident] = {"written": out.written, "already_stored": out.duplicates}
                if feed != "rejects":
                    written += out.written
                snapshots[ident] = out.snapshot_id
            details["bronze"] = tables
        if kafka is not None:
            details["kafka"] = {
                "sent": kafka.sent,
                "acknowledged": kafka.acked,
                "by_topic": dict(sorted(kafka.by_topic.items())),
            }
            written += kafka.acked
        details["written"] = written
        return JobResult(
            rows_in=self.records_in,
            rows_out=written,
            rejected=self.rejected,
            snapshot_ids=snapshots,
            details=details,
        )
