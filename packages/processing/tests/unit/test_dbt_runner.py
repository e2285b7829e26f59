"""The dbt runner and plugin, without services: arguments, generated profile, project layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cryptolake.core import ConfigError, Settings
from cryptolake.core.testing import TransformConformance
from cryptolake.processing import dbt as runner


class TestDbtPluginConformance(TransformConformance, plugin="cryptolake.processing.dbt_plugin"):
    pass


def test_profile_is_generated_from_settings_into_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    directory = runner.write_profile(settings, "gold_audit", threads=3)
    assert directory.is_relative_to(tmp_path)
    out = yaml.safe_load((directory / "profiles.yml").read_text())["cryptolake"]["outputs"]["lakehouse"]
    assert out == {
        "type": "trino", "method": "none", "user": settings.trino.user, "host": settings.trino.host,
        "port": settings.trino.port, "http_scheme": "http", "database": "lakehouse",
        "schema": "gold_audit", "threads": 3,
    }
    assert "password" not in (directory / "profiles.yml").read_text()


def test_build_args(tmp_path: Path) -> None:
    args = runner.build_args(
        "build", project_dir=tmp_path, profiles_dir=tmp_path / "p", target_path=tmp_path / "t",
        log_path=tmp_path / "l", select=["marts"], full_refresh=True, vars={"silver_schema": "s1"},
    )
    assert args[0] == "build"
    assert args[args.index("--select") + 1] == "marts"
    assert "--full-refresh" in args
    assert json.loads(args[args.index("--vars") + 1]) == {"silver_schema": "s1"}
    assert args[args.index("--target-path") + 1] == str(tmp_path / "t")


def test_docs_means_docs_generate_and_tests_never_full_refresh(tmp_path: Path) -> None:
    kw: dict[str, Any] = dict(
        project_dir=tmp_path, profiles_dir=tmp_path, target_path=tmp_path, log_path=tmp_path
    )
    assert runner.build_args("docs", **kw)[:2] == ["docs", "generate"]
    assert "--full-refresh" not in runner.build_args("test", full_refresh=True, **kw)


def test_unknown_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown dbt command"):
        runner.build_args("deploy", project_dir=tmp_path, profiles_dir=tmp_path,
                          target_path=tmp_path, log_path=tmp_path)


def test_project_dir_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core import get_settings

    monkeypatch.setenv(runner.PROJECT_DIR_ENV, str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="no dbt_project.yml"):
            runner.find_project_dir()
    finally:
        monkeypatch.delenv(runner.PROJECT_DIR_ENV)
        get_settings.cache_clear()
    assert (runner.find_project_dir() / "dbt_project.yml").is_file()


def test_dbt_results_become_quality_results() -> None:
    run = runner.DbtRun("test", [], False, nodes=[
        runner.DbtNodeResult("model.cryptolake.market_ohlc", "success"),
        runner.DbtNodeResult("test.cryptolake.unique_combination_of_columns_stg_binance__ohlcv_1h_symbol.6607",
                             "fail", failures=3, attached_node="model.cryptolake.stg_binance__ohlcv_1h"),
        runner.DbtNodeResult("model.cryptolake.fact_price_hourly", "error", message="MERGE failed"),
    ])
    results = {r.check + "@" + r.table: r for _, r in runner.dbt_check_results([run])}
    assert results["dbt_model@gold.market_ohlc"].outcome == "pass"
    dup = results["unique_combination_of_columns_stg_binance__ohlcv_1h_symbol@gold.stg_binance__ohlcv_1h"]
    assert dup.outcome == "fail" and dup.value == 3.0 and dup.failed
    assert results["dbt_model@gold.fact_price_hourly"].outcome == "error"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``dbt parse`` of the real project (no database needed), as a manifest dict."""
    home = tmp_path_factory.mktemp("home")
    run = runner.run_dbt("parse", settings=Settings(home=home))
    assert run.success, run.error
    return json.loads((home / "dbt" / "target" / runner.AUDIT_SCHEMA / "manifest.json").read_text())


def test_project_has_the_issue_models(manifest: dict) -> None:
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) == {
        "stg_binance__ohlcv_1h", "stg_coingecko__market_daily", "stg_alternative_me__fear_greed",
        "int_market_daily__enriched", "int_prices__rolled_up_daily", "fact_market_daily",
        "fact_price_hourly", "market_ohlc", "dim_coins", "dim_dates",
    }
    for name in ("fact_market_daily", "fact_price_hourly", "market_ohlc",
                 "int_market_daily__enriched", "int_prices__rolled_up_daily"):
        cfg = models[name]["config"]
        assert cfg["materialized"] == "incremental" and cfg["incremental_strategy"] == "merge", name
        assert cfg["unique_key"], name


def test_every_model_has_key_tests(manifest: dict) -> None:
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            for dep in node["depends_on"]["nodes"]:
                tests_by_model.setdefault(dep.split(".")[-1], set()).add(
                    node["test_metadata"]["name"] if node.get("test_metadata") else node["name"]
                )
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        kinds = tests_by_model.get(node["name"], set())
        assert kinds & {"unique", "unique_combination_of_columns"}, f"{node['name']} has no unique test"
        assert "not_null" in kinds, f"{node['name']} has no not_null test"
    for fact in ("fact_market_daily", "fact_price_hourly", "market_ohlc"):
        assert "relationships" in tests_by_model[fact], fact


def test_sources_are_parameterised_and_fresh(manifest: dict) -> None:
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) == {"ohlcv_1h", "market_daily", "fear_greed"}
    for s in sources.values():
        assert s["schema"] == "silver"
        assert s["loaded_at_field"] == "updated_at"
        assert s["freshness"]["error_after"]["count"]


@pytest.mark.parametrize("command", ["run"])
def test_a_selection_that_matches_nothing_is_an_error(tmp_path: Path, command: str) -> None:
    with pytest.raises(ConfigError, match="nosuchmodel matches no model.*fact_price_hourly"):
        runner.run_dbt(command, select=["nosuchmodel"], settings=Settings(home=tmp_path))
