"""Gold is declared once (``cryptolake.core.tables.gold``); dbt and the Soda suites agree with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cryptolake.core.tables.gold import CONTRACTS
from cryptolake.processing.dbt import MART_PARTITIONING, MARTS, find_project_dir
from cryptolake.processing.quality import checks as c
from cryptolake.processing.quality.suites import checks_for, config_model_for


def _marts_yml() -> dict[str, dict]:
    path = find_project_dir() / "models" / "marts" / "_marts__models.yml"
    return {m["name"]: m for m in yaml.safe_load(path.read_text())["models"]}


def _model_sql(name: str) -> str:
    return next(Path(find_project_dir(), "models").rglob(f"{name}.sql")).read_text()


def test_every_gold_contract_is_a_mart_and_back() -> None:
    assert set(MARTS) == {c.name for c in CONTRACTS} == set(_marts_yml())


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_the_dbt_model_contract_is_the_gold_contract(contract) -> None:  # type: ignore[no-untyped-def]
    model = _marts_yml()[contract.name]
    assert model["config"]["contract"]["enforced"] is True
    declared = [(col["name"], col["data_type"]) for col in model["columns"]]
    assert declared == [(col.name, c.TRINO_TYPES[col.type]) for col in contract.columns]
    sql = _model_sql(contract.name)
    if contract.key and "unique_key" in sql:  # incremental marts merge on the contract's key
        assert f"unique_key={list(contract.key)}" in sql.replace('"', "'")
    parts = MART_PARTITIONING[contract.name]
    if parts:
        assert "ARRAY[" + ", ".join(f"'{p}'" for p in parts) + "]" in sql


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_the_gold_suite_checks_the_contract(contract) -> None:  # type: ignore[no-untyped-def]
    specs = {s.name: s for s in checks_for(config_model_for(contract.identifier)())}  # type: ignore[call-arg]
    schema = specs["schema"].config["fail"]["when wrong column type"]
    assert schema == {col.name: c.TRINO_TYPES[col.type] for col in contract.columns}
    assert specs["duplicates"].line == f"duplicate_count({', '.join(contract.key)}) = 0"


def test_gold_reconciles_with_silver() -> None:
    cfg = config_model_for("gold.fact_price_hourly")(silver_namespace="s1",  # type: ignore[call-arg]
                                                      silver_snapshots={"ohlcv_1h": 42})
    specs = {s.name: s for s in checks_for(cfg)}
    query = specs["reconciled_keys"].config["missing_upstream_keys query"]
    assert '"s1"."ohlcv_1h" FOR VERSION AS OF 42' in query and "except" in query
    assert "count_mismatches query" in specs["reconciled_counts"].config
    ohlc = {s.name for s in checks_for(config_model_for("gold.market_ohlc")())}  # type: ignore[call-arg]
    assert {"reconciled_keys", "reconciled_counts"} <= ohlc
