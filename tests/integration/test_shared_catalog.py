"""pyiceberg, Trino and Spark share one Iceberg catalog (JDBC in PostgreSQL, warehouse on S3).

The scenario of issue 3: pyiceberg creates and appends; Trino reads and inserts; Spark reads both
writes and MERGEs; pyiceberg and Trino see Spark's commit; time travel to the first snapshot returns
the first rows in all three engines.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from cryptolake.core.clients import load_catalog, query, spark_session

pytestmark = pytest.mark.integration

SCHEMA = pa.schema(
    [
        pa.field("trade_id", pa.int64(), nullable=False),
        pa.field("symbol", pa.string()),
        pa.field("price", pa.float64()),
    ]
)
FIRST = [(1, "BTCUSDT", 97000.5), (2, "ETHUSDT", 3400.25)]
TRINO_ROW = (3, "SOLUSDT", 180.75)
# MERGE: update trade 2, insert trade 4
MERGED = [
    (1, "BTCUSDT", 97000.5),
    (2, "ETHUSDT", 3411.0),
    (3, "SOLUSDT", 180.75),
    (4, "ADAUSDT", 0.91),
]


def _rows(table: pa.Table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def test_pyiceberg_trino_and_spark_share_one_catalog(lakehouse_stack, lakehouse_namespace):
    settings = lakehouse_stack.settings
    ns = lakehouse_namespace
    catalog_name = settings.lakehouse.catalog
    catalog = load_catalog(settings)

    # 1. pyiceberg creates the table and appends the first rows
    table = catalog.create_table(f"{ns}.trades", schema=SCHEMA)
    table.append(
        pa.Table.from_pylist(
            [dict(zip(SCHEMA.names, r, strict=True)) for r in FIRST], schema=SCHEMA
        )
    )
    first_snapshot = table.current_snapshot().snapshot_id

    # 2. Trino reads pyiceberg's rows and inserts one of its own
    assert query(f"SELECT * FROM {ns}.trades ORDER BY trade_id", settings=settings) == FIRST
    query(f"INSERT INTO {ns}.trades VALUES (?, ?, ?)", TRINO_ROW, settings=settings)

    # 3. Spark reads both writes, MERGEs, and time-travels
    spark = spark_session("test-shared-catalog", settings)
    try:
        fq = f"{catalog_name}.{ns}.trades"
        seen = sorted(tuple(r) for r in spark.sql(f"SELECT * FROM {fq}").collect())
        assert seen == [*FIRST, TRINO_ROW]
        spark.sql(f"""
            MERGE INTO {fq} t
            USING (SELECT 2L AS trade_id, 'ETHUSDT' AS symbol, 3411.0D AS price
                   UNION ALL SELECT 4L, 'ADAUSDT', 0.91D) s
            ON t.trade_id = s.trade_id
            WHEN MATCHED THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *""")
        spark_snapshot = spark.sql(
            f"SELECT snapshot_id FROM {fq}.snapshots ORDER BY committed_at DESC LIMIT 1"
        ).collect()[0][0]
        old = sorted(
            tuple(r)
            for r in spark.sql(f"SELECT * FROM {fq} VERSION AS OF {first_snapshot}").collect()
        )
        assert old == FIRST
    finally:
        spark.stop()

    # 4. pyiceberg and Trino see Spark's commit
    table = catalog.load_table(f"{ns}.trades")
    assert table.current_snapshot().snapshot_id == spark_snapshot
    assert _rows(table.scan().to_arrow()) == MERGED
    assert query(f"SELECT * FROM {ns}.trades ORDER BY trade_id", settings=settings) == MERGED
    snapshots = query(
        f'SELECT snapshot_id FROM {ns}."trades$snapshots" ORDER BY committed_at', settings=settings
    )
    assert snapshots[0][0] == first_snapshot and snapshots[-1][0] == spark_snapshot

    # 5. time travel to the first snapshot returns the first rows (Spark checked above)
    assert _rows(table.scan(snapshot_id=first_snapshot).to_arrow()) == FIRST
    assert (
        query(
            f"SELECT * FROM {ns}.trades FOR VERSION AS OF {first_snapshot} ORDER BY trade_id",
            settings=settings,
        )
        == FIRST
    )
