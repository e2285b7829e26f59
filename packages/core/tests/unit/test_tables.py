from __future__ import annotations

import pytest

from cryptolake.core import ConfigError
from cryptolake.core.tables import (
    Column,
    PartitionField,
    TableContract,
    all_contracts,
    get_contract,
)


def test_contract_renders_for_every_engine() -> None:
    c = get_contract("silver.ohlcv_1h")
    schema = c.iceberg_schema()
    assert [f.name for f in schema.fields] == c.column_names
    assert schema.find_field("symbol").required
    spec = c.partition_spec(schema)
    assert [str(f.transform) for f in spec.fields] == ["month"]
    assert [f.source_id for f in c.sort_order(schema).fields] == [1, 2]
    assert c.arrow_schema().field("open_time").type.tz == "UTC"
    ddl = c.spark_ddl("lakehouse")
    assert "CREATE TABLE IF NOT EXISTS lakehouse.silver.ohlcv_1h" in ddl
    assert "PARTITIONED BY (months(open_time))" in ddl


def test_every_contract_is_consistent() -> None:
    contracts = all_contracts()
    assert {"ops.pipeline_runs", "ops.dq_results", "ops.alerts", "silver.trades"} <= set(contracts)
    for ident, c in contracts.items():
        assert ident == c.identifier
        assert c.key, f"{ident} declares no natural key"
        c.iceberg_schema()
        c.partition_spec()


def test_bad_contracts_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown type"):
        Column("x", "varchar")
    with pytest.raises(ConfigError, match="unknown column 'nope'"):
        TableContract("t", "x", (Column("a", "long"),), partition_by=(PartitionField("nope"),))
    with pytest.raises(ConfigError, match="no table contract for 'gold.nothing'"):
        get_contract("gold.nothing")
