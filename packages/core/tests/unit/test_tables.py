from __future__ import annotations

from typing import Any

import pytest

from cryptolake.core import ConfigError, PluginError, PluginManifest, SourcePlugin, hookimpl
from cryptolake.core.tables import (
    CORE_OWNER,
    Column,
    PartitionField,
    TableContract,
    TableRegistry,
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


DEMO = TableContract("bronze", "demo_ticks", (Column("id", "long", required=True),), key=("id",))


class DeclaresTables:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="demo", version="1")

    def __init__(self, *contracts: TableContract) -> None:
        self.contracts = contracts

    @hookimpl
    def cryptolake_register_tables(self, tables: TableRegistry) -> None:
        for c in self.contracts:
            tables.add(c)

    @hookimpl
    def cryptolake_register_sources(self, registry: Any) -> None:
        registry.add(SourcePlugin(name="demo.ticks", implementation="x:y",
                                  bronze_tables=("bronze.demo_ticks",)))


def test_importing_the_layers_registers_nothing() -> None:
    """No registry is filled at import: the layers' modules only define constants."""
    from cryptolake.core.tables import bronze, gold, silver

    assert bronze.BINANCE_KLINES in bronze.CONTRACTS
    assert set(all_contracts()) == {
        c.identifier for c in (*bronze.CONTRACTS, *silver.CONTRACTS, *gold.CONTRACTS)
    } | {"ops.pipeline_runs", "ops.dq_results", "ops.alerts", "ops.publications"}


def test_a_plugin_declares_its_tables_through_the_hook(make_plugin_host: Any) -> None:
    host = make_plugin_host([DeclaresTables(DEMO)])
    assert host.tables.get("bronze.demo_ticks") is DEMO
    assert host.tables.owner("bronze.demo_ticks") == "demo"
    assert host.tables.owner("bronze.binance_klines") == CORE_OWNER
    assert host.tables.of_plugin("demo") == [DEMO]
    assert [p.tables for p in host.listing() if p.name == "demo"] == [["bronze.demo_ticks"]]
    # a plugin's table is the host's business only: the core's own list is unchanged
    assert "bronze.demo_ticks" not in all_contracts()
    # another host does not see it
    assert "bronze.demo_ticks" not in make_plugin_host([]).tables


def test_a_conflicting_or_misplaced_table_drops_the_plugin(make_plugin_host: Any) -> None:
    clash = TableContract("bronze", "binance_klines", (Column("x", "long"),))
    host = make_plugin_host([DeclaresTables(clash)], strict=False)
    assert "demo.ticks" not in host.sources  # the plugin registers nothing else
    assert host.plugins["demo"].status == "error"
    assert "already declared by 'cryptolake-core'" in (host.plugins["demo"].error or "")
    assert host.tables.get("bronze.binance_klines") == get_contract("bronze.binance_klines")
    ops = TableContract("ops", "mine", (Column("x", "long"),))
    with pytest.raises(PluginError, match="may declare tables in bronze, gold, ml, silver only"):
        make_plugin_host([DeclaresTables(ops)], strict=True).load_registries()


def test_ensure_table_uses_the_table_another_process_created_meanwhile(tmp_path: Any) -> None:
    """The CLI and a worker both ensure ``ops.pipeline_runs`` on a fresh lakehouse: the one that
    loses the race to create it loads the winner's table instead of failing."""
    from pyiceberg.catalog.sql import SqlCatalog

    from cryptolake.core.tables import ensure_table
    from cryptolake.core.tables.ops import PIPELINE_RUNS

    catalog = SqlCatalog(
        "race", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/warehouse"
    )
    other = SqlCatalog(
        "race", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/warehouse"
    )
    real_load = catalog.load_table
    calls = {"n": 0}

    def load_after_the_other_created_it(ident: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # our first look: not there yet; the other process creates it now
            ensure_table(other, PIPELINE_RUNS)
            from pyiceberg.exceptions import NoSuchTableError

            raise NoSuchTableError(ident)
        return real_load(ident)

    catalog.load_table = load_after_the_other_created_it  # type: ignore[method-assign,assignment]
    table = ensure_table(catalog, PIPELINE_RUNS)
    assert [f.name for f in table.schema().fields] == PIPELINE_RUNS.column_names
    assert calls["n"] == 2
