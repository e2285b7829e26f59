"""Bronze on the real stack: a large stream batch writes one file per table partition.

The Kafka → Bronze writer appends a small micro-batch through one task (``coalesce(1)``). A large
one (a catch-up over history) keeps its tasks; each task then wrote a file for every month it held
rows of — on the shared data set 320 files of ~600 rows for one batch of 200 k klines over 107
months — and every Silver read of Bronze paid for each file. A clustered append shuffles the rows
by table partition first. Both paths are checked here on the same rows, so the test fails if the
clustered one writes what the plain one does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cryptolake.core.clients import load_catalog, query, spark_session
from cryptolake.core.settings import Settings
from cryptolake.core.tables import ensure_table, get_contract
from cryptolake.processing.spark import testing as rec
from cryptolake.processing.spark.stream import BatchWriter, StreamConfig

pytestmark = pytest.mark.integration

MONTHS = 6
TASKS = 4


def _klines(symbols: list[str]) -> list[dict[str, Any]]:
    """An hourly kline every 6 hours over MONTHS months for each symbol, as Bronze rows."""
    rows: list[dict[str, Any]] = []
    start = datetime(2023, 1, 1, tzinfo=UTC)
    days = (datetime(2023, 1 + MONTHS, 1, tzinfo=UTC) - start).days
    for symbol in symbols:
        for i in range(days * 4):
            t = start + timedelta(hours=6 * i)
            p = f"{100 + i:.8f}"
            k = rec.Kline(symbol, "1h", t, p, p, p, p, "1.00000000", None, 1, True)
            rows.append(rec.bronze_kline_row(k.event(), t + timedelta(hours=1), len(rows)))
    return rows


def _files_added(settings: Settings, ns: str, table: str) -> list[int]:
    rows = query(
        f'SELECT summary[\'added-data-files\'] FROM {ns}."{table}$snapshots" ORDER BY committed_at',
        settings=settings,
    )
    return [int(r[0]) for r in rows]


@pytest.mark.timeout(600)
def test_a_clustered_append_writes_one_file_per_partition(
    lakehouse_settings: Settings, lakehouse_namespace: str
) -> None:
    settings, ns = lakehouse_settings, lakehouse_namespace
    contract = get_contract("bronze.binance_klines")
    ensure_table(load_catalog(settings), contract, namespace=ns)
    table = f"{settings.lakehouse.catalog}.{ns}.binance_klines"
    session = spark_session("cryptolake-tests", settings)
    rows = _klines(["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    # rows in arrival order spread over the tasks, as Kafka partitions spread them: every task
    # holds rows of every month
    df = rec.rows_frame(session, contract, rows).repartition(TASKS)
    writer = BatchWriter(StreamConfig(name="layout", bronze_namespace=ns), settings, "layout-test")

    assert writer._append(session, df, table, 0)
    assert writer._append(session, df, table, 1, clustered=True)

    plain, clustered = _files_added(settings, ns, "binance_klines")
    assert clustered == MONTHS, (plain, clustered)
    assert plain > MONTHS, (plain, clustered)  # what the shuffle saves: a file per task and month
    counts = query(f"SELECT count(*), count(DISTINCT (symbol, open_time)) FROM {ns}.binance_klines",
                   settings=settings)
    assert counts == [(2 * len(rows), len(rows))]
