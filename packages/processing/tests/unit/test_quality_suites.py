"""The quality suites and plugin, without services: what each suite checks, rendered SodaCL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import yaml

from cryptolake.core.testing import QualityConformance
from cryptolake.processing.quality import checks as c
from cryptolake.processing.quality.plugin import suite_identifiers
from cryptolake.processing.quality.results import sql_literal
from cryptolake.processing.quality.suites import SodaTableSuite, checks_for, config_model_for


class TestQualityPluginConformance(QualityConformance, plugin="cryptolake.processing.quality.plugin"):
    pass


def names(table: str, **cfg: object) -> set[str]:
    return {s.name for s in checks_for(config_model_for(table)(**cfg))}


def test_every_layer_and_silver_table_has_a_suite() -> None:
    idents = {ident for _, ident in suite_identifiers()}
    for table in ("ohlcv_1h", "ohlcv_1m", "market_daily", "fear_greed", "trades", "vwap", "anomalies"):
        assert f"silver.{table}" in idents
    for mart in ("fact_market_daily", "fact_price_hourly", "market_ohlc", "dim_coins", "dim_dates"):
        assert f"gold.{mart}" in idents
    assert {layer for layer, _ in suite_identifiers()} >= {"silver", "gold"}


@pytest.mark.parametrize("table", ["silver.ohlcv_1h", "gold.fact_price_hourly", "gold.market_ohlc"])
def test_candle_suites_check_what_the_issue_asks(table: str) -> None:
    assert names(table) >= {"row_count", "freshness", "duplicates", "schema", "positive_prices",
                            "ohlc_consistency", "gaps"}


def test_fear_greed_range_is_checked_in_silver_and_gold() -> None:
    assert "range_value" in names("silver.fear_greed")
    assert "range_fear_greed_value" in names("gold.fact_market_daily")


def test_rendered_sodacl_names_every_check_and_fills_the_table() -> None:
    suite = SodaTableSuite(config_model_for("silver.ohlcv_1h").model_validate({"gap_tolerance": 12}))
    doc = yaml.safe_load(suite.sodacl())
    (header, items), = doc.items()
    assert header == "checks for ohlcv_1h"
    rendered = {}
    for item in items:
        ((line, body),) = item.items()
        rendered[body["name"]] = (line, body)
    assert rendered["duplicates"][0] == "duplicate_count(symbol, open_time) = 0"
    assert rendered["gaps"][0] == "missing_buckets <= 12"
    assert "from ohlcv_1h" in rendered["ohlc_consistency"][1]["ohlc_violations query"]
    schema = rendered["schema"][1]["fail"]["when wrong column type"]
    assert schema["open_time"] == "timestamp(6) with time zone" and schema["close"] == "double"


def test_gap_query_counts_missing_buckets() -> None:
    spec = c.gaps(["symbol"], "open_time", unit="hour")
    q = spec.config["missing_buckets query"].replace("{table}", "t")
    assert "partition by symbol order by open_time" in q
    assert "date_diff('hour', prev, t) > 1" in q


def test_bronze_tables_get_contract_suites_that_tolerate_empty_tables() -> None:
    bronze = [ident for layer, ident in suite_identifiers() if layer == "bronze"]
    if not bronze:
        pytest.skip("no bronze contracts declared yet")
    specs = {s.name: s for s in checks_for(config_model_for(bronze[0]).model_validate({}))}
    assert specs["row_count"].line == "row_count >= 0"
    assert "schema" in specs


def test_sql_literals() -> None:
    assert sql_literal("it's", "string") == "'it''s'"
    assert sql_literal(None, "double") == "NULL"
    assert sql_literal(float("nan"), "double") == "NULL"
    assert sql_literal(3, "long") == "3"
    assert sql_literal(date(2022, 1, 2), "date") == "DATE '2022-01-02'"
    ts = datetime(2022, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert sql_literal(ts, "timestamptz") == "TIMESTAMP '2022-01-02 03:04:05.000006 UTC'"


def test_gaps_look_at_the_recent_window_unless_told_otherwise() -> None:
    def gap_query(**cfg: object) -> str:
        spec = next(s for s in checks_for(config_model_for("silver.ohlcv_1h")(**cfg)) if s.name == "gaps")
        return spec.config["missing_buckets query"]

    assert "interval '7' day" in gap_query()
    assert "interval '30' day" in gap_query(gap_window_days=30)
    assert "interval" not in gap_query(gap_window_days=None)


def test_commands_are_registered() -> None:
    import typer
    from typer.testing import CliRunner

    from cryptolake.core import CommandRegistry
    from cryptolake.processing import dbt_plugin
    from cryptolake.processing.quality import plugin

    root = typer.Typer()
    registry = CommandRegistry(root)
    registry.add_core_group("transform", typer.Typer(no_args_is_help=True))
    plugin.cryptolake_register_commands(registry)
    dbt_plugin.cryptolake_register_commands(registry)
    registry.mount_new_groups()
    runner = CliRunner()
    assert "report" in runner.invoke(root, ["quality", "--help"]).output
    out = runner.invoke(root, ["transform", "dbt", "--help"]).output
    assert "--select" in out and "--full-refresh" in out


def test_bronze_duplicates_are_judged_on_key_and_payload_hash() -> None:
    """Bronze is append-only: the same hour from two overlapping files is stored once per
    distinct payload, so the natural key alone is not unique there (issue 11, item 4)."""
    from cryptolake.processing.quality.suites import duplicate_key

    specs = {s.name: s for s in checks_for(config_model_for("bronze.binance_klines")())}  # type: ignore[call-arg]
    assert specs["duplicates"].line == (
        "duplicate_count(symbol, interval, open_time, payload_sha256) = 0"
    )
    assert duplicate_key("silver.ohlcv_1h") == ["symbol", "open_time"]  # Silver: key only


def _quality_host(settings: object) -> object:
    from cryptolake.core import build_plugin_manager
    from cryptolake.processing.quality import plugin

    return build_plugin_manager(settings, autoload=False, plugins=[plugin])  # type: ignore[arg-type]


def test_an_unknown_layer_or_suite_is_an_error(cryptolake_settings: object) -> None:
    from cryptolake.core import ConfigError
    from cryptolake.processing.quality.api import quality_run

    host = _quality_host(cryptolake_settings)
    with pytest.raises(ConfigError, match="unknown layer.*nosuch.*bronze, gold, silver"):
        quality_run(["nosuch"], settings=cryptolake_settings, host=host)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown quality suite"):
        quality_run(["silver"], suites=["silver.nosuch"], settings=cryptolake_settings,  # type: ignore[arg-type]
                    host=host)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="belong to none of the layers"):
        quality_run(["gold"], suites=["silver.trades"], settings=cryptolake_settings,  # type: ignore[arg-type]
                    host=host)  # type: ignore[arg-type]


def test_a_gate_that_checks_nothing_fails(cryptolake_settings: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core import JobContext, QualityGateFailed, build_plugin_manager
    from cryptolake.processing.quality import gate

    recorded: list[object] = []
    monkeypatch.setattr(gate.store, "record", lambda settings, results, **kw: recorded.extend(results))
    host = build_plugin_manager(cryptolake_settings, autoload=False)  # type: ignore[arg-type]
    ctx = JobContext(kind="quality", name="gate.silver", settings=cryptolake_settings, host=host)  # type: ignore[arg-type]
    with pytest.raises(QualityGateFailed, match="no_checks"):
        gate.audit(ctx, "silver")
    assert [r.result.check for r in recorded] == ["no_checks"]  # type: ignore[attr-defined]
