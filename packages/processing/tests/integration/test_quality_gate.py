"""Write-audit-publish for Gold, and the Silver suites, on recorded real data (real Trino).

A clean batch is published; a bad batch (duplicates, a negative price, a gap, a Fear & Greed
index of 150) fails exactly the checks that look for those defects, is recorded in dq_results
and alerts, fires the lifecycle hook, and leaves the published Gold tables as they were.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import _silver_fixtures as fx
import pytest
from _gold_env import GoldNamespaces, gold_namespaces, sql

import cryptolake.processing.dbt_plugin as dbt_plugin
import cryptolake.processing.quality.plugin as quality_plugin
from cryptolake.core import (
    CheckResult,
    JobContext,
    JobResult,
    PluginManifest,
    QualityGateFailed,
    QualitySuitePlugin,
    Settings,
    build_plugin_manager,
    hookimpl,
    run_job,
)
from cryptolake.core.clients import load_catalog
from cryptolake.processing.dbt import DbtBuildConfig, DbtGoldJob
from cryptolake.processing.quality import quality_report, quality_run

pytestmark = pytest.mark.integration

LAST = date(2022, 2, 15)
NEW_DAY = LAST
SILVER_SUITES = ["silver.ohlcv_1h", "silver.market_daily", "silver.fear_greed"]


class GateRecorder:
    """A plugin that records every ``cryptolake_quality_gate_failed`` call."""

    CRYPTOLAKE_PLUGIN = PluginManifest(name="test_gate_recorder", version="0")

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[CheckResult]]] = []

    @hookimpl
    def cryptolake_quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None:
        self.calls.append((layer, list(results)))


@pytest.fixture(scope="module")
def env(lakehouse_stack: Any) -> Iterator[tuple[Settings, GoldNamespaces]]:
    settings: Settings = lakehouse_stack.settings
    with gold_namespaces(settings) as ns:
        fx.load(load_catalog(settings), ns.silver, fx.sample_rows(last=NEW_DAY - timedelta(days=1)))
        yield settings, ns


def gold_job(settings: Settings, ns: GoldNamespaces, recorder: GateRecorder, **cfg: Any) -> tuple[JobContext, DbtGoldJob]:
    host = build_plugin_manager(settings, autoload=False, strict=True,
                                plugins=[dbt_plugin, quality_plugin, recorder])
    ctx = JobContext(kind="transform", name="dbt.gold", settings=settings, host=host, params={
        "silver_schema": ns.silver, "audit_schema": ns.audit, "published_schema": ns.published,
        "ops_namespace": ns.ops,
    })
    return ctx, DbtGoldJob(DbtBuildConfig(**cfg))


def published_state(settings: Settings, ns: GoldNamespaces) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for table, col in (("fact_price_hourly", "open_time"), ("market_ohlc", "bucket_start"),
                       ("fact_market_daily", "date"), ("dim_dates", "date_day")):
        state[table] = sql(settings, f"""SELECT count(*), max({col}),
            (SELECT max(snapshot_id) FROM "{ns.published}"."{table}$snapshots")
            FROM "{ns.published}"."{table}" """)[0]
    return state


def bad_batch() -> dict[str, list[dict[str, Any]]]:
    """The recorded NEW_DAY with four defects injected."""
    day = fx.sample_rows(NEW_DAY, NEW_DAY)
    hourly = day["ohlcv_1h"]
    btc_midnight = next(r for r in hourly if r["symbol"] == "BTCUSDT" and r["open_time"].hour == 0)
    hourly.append(dict(btc_midnight))                                   # a duplicate
    eth_5 = next(r for r in hourly if r["symbol"] == "ETHUSDT" and r["open_time"].hour == 5)
    eth_5.update(close=-eth_5["close"], low=-eth_5["close"])            # a negative price
    hourly[:] = [r for r in hourly                                      # a 3-hour gap
                 if not (r["symbol"] == "ADAUSDT" and 10 <= r["open_time"].hour <= 12)]
    day["fear_greed"][0]["value"] = 150                                 # an out-of-range index
    return day


def test_clean_batch_published_bad_batch_blocked(env: tuple[Settings, GoldNamespaces]) -> None:
    settings, ns = env
    recorder = GateRecorder()

    # 1. clean data: audited and published
    ctx, job = gold_job(settings, ns, recorder, full_refresh=True)
    result = run_job(ctx, job.run)
    assert result.details["published"] is True
    assert set(result.snapshot_ids) == {f"{ns.published}.{m}" for m in
                                        ("dim_coins", "dim_dates", "fact_market_daily", "fact_price_hourly", "market_ohlc")}
    before = published_state(settings, ns)
    assert before["fact_market_daily"][1] == NEW_DAY - timedelta(days=1)
    assert not recorder.calls
    report = quality_report(run_id=ctx.run_id, ops_namespace=ns.ops, settings=settings)
    assert report and all(r["outcome"] == "pass" for r in report)
    assert {r["table_name"] for r in report} >= {"gold.market_ohlc", "gold.fact_market_daily"}

    # 2. a bad batch reaches Silver: the Gold gate refuses it
    fx.load(load_catalog(settings), ns.silver, bad_batch())
    ctx, job = gold_job(settings, ns, recorder)
    with pytest.raises(QualityGateFailed) as failed:
        run_job(ctx, job.run)
    failures = set(failed.value.failed_checks)
    assert {"gold.fact_price_hourly:positive_prices", "gold.fact_price_hourly:gaps",
            "gold.market_ohlc:positive_prices",
            "gold.fact_market_daily:range_fear_greed_value"} <= failures, failures
    assert any(f.startswith("gold.stg_binance__ohlcv_1h:unique_combination_of_columns_stg_binance__ohlcv_1h") for f in failures), failures
    # checks the batch does not break still pass
    for ok in ("gold.dim_dates:duplicates", "gold.dim_coins:duplicates", "gold.fact_market_daily:duplicates",
               "gold.market_ohlc:duplicates"):
        assert ok not in failures

    # ... published Gold is exactly as it was
    assert published_state(settings, ns) == before
    # ... every result is recorded, the failures raised alerts, the hook fired
    recorded = sql(settings, f"""SELECT table_name || ':' || check_name, outcome FROM "{ns.ops}".dq_results
        WHERE run_id = '{ctx.run_id}'""")
    assert {k for k, o in recorded if o in ("fail", "error")} == failures
    assert len(recorded) > 60
    (alerts,), = sql(settings, f"""SELECT count(*) FROM "{ns.ops}".alerts WHERE run_id = '{ctx.run_id}'""")
    assert alerts == len(failures)
    assert [layer for layer, _ in recorder.calls] == ["gold"]
    latest = quality_report(layer="gold", only_failed=True, ops_namespace=ns.ops, settings=settings)
    assert {f"{r['table_name']}:{r['check_name']}" for r in latest} == failures
    assert {f"{r.table}:{r.check}" for r in recorder.calls[0][1] if r.failed} == failures

    # 3. the Silver suites name the same defects at their source
    with pytest.raises(QualityGateFailed) as silver_failed:
        quality_run("silver", namespace=ns.silver, suites=SILVER_SUITES, settings=settings,
                    ops_namespace=ns.ops,
                    host=build_plugin_manager(settings, autoload=False, plugins=[quality_plugin]))
    silver_failures = set(silver_failed.value.failed_checks)
    assert {"silver.ohlcv_1h:duplicates", "silver.ohlcv_1h:positive_prices", "silver.ohlcv_1h:gaps",
            "silver.fear_greed:range_value"} <= silver_failures, silver_failures
    assert not any(f.startswith("silver.market_daily:") for f in silver_failures)

    # 4. Silver is repaired (the day replaced by its clean recording): Gold is published again
    for table in ("ohlcv_1h", "fear_greed", "market_daily"):
        col = "open_time" if table == "ohlcv_1h" else "date"
        sql(settings, f"""DELETE FROM "{ns.silver}"."{table}" WHERE CAST({col} AS date) = DATE '{NEW_DAY.isoformat()}'""")
    fx.load(load_catalog(settings), ns.silver, fx.sample_rows(NEW_DAY, NEW_DAY))
    ctx, job = gold_job(settings, ns, recorder)
    assert run_job(ctx, job.run).details["published"] is True
    after = published_state(settings, ns)
    assert after["fact_market_daily"][1] == NEW_DAY
    assert after["fact_price_hourly"][0] == before["fact_price_hourly"][0] + 3 * 24
    (fg,), = sql(settings, f"""SELECT DISTINCT fear_greed_value FROM "{ns.published}".fact_market_daily
        WHERE date = DATE '{NEW_DAY.isoformat()}'""")
    assert fg == fx.sample_rows(NEW_DAY, NEW_DAY)["fear_greed"][0]["value"]


class AcmeSuite:
    """A third party's suite: Gold may hold no more than ``max_coins`` coins."""

    def __init__(self, config: Any) -> None:
        self.max_coins = config.max_coins

    def run(self, ctx: JobContext) -> list[CheckResult]:
        (coins,), = sql(ctx.settings, f'''SELECT count(*) FROM "{ctx.params['namespace']}".dim_coins''')
        outcome = "pass" if coins <= self.max_coins else "fail"
        return [CheckResult("max_coins", "gold.dim_coins", outcome, float(coins),
                            message=f"{coins} coins, at most {self.max_coins}")]


class AcmePlugin:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="acme_quality", version="1.0")

    @hookimpl
    def cryptolake_register_quality_suites(self, registry: Any) -> None:
        from pydantic import BaseModel

        class AcmeConfig(BaseModel):
            max_coins: int = 2

        registry.add(QualitySuitePlugin(
            name="acme.gold_coins", implementation=f"{__name__}:AcmeSuite", config_model=AcmeConfig,
            capabilities=frozenset({"python"}), layer="gold", tables=("gold.dim_coins",)))


def test_a_third_party_suite_gates_gold(env: tuple[Settings, GoldNamespaces]) -> None:
    settings, ns = env
    from cryptolake.processing.dbt import run_dbt

    assert run_dbt("run", select=["+dim_coins"], schema=ns.audit, silver_schema=ns.silver,
                   settings=settings).success
    host = build_plugin_manager(settings, autoload=False, strict=True,
                                plugins=[quality_plugin, AcmePlugin()])
    assert "acme.gold_coins" in [e.name for e in host.quality.for_layer("gold")]
    with pytest.raises(QualityGateFailed) as failed:
        quality_run("gold", namespace=ns.audit, suites=["acme.gold_coins", "gold.dim_coins"],
                    ops_namespace=ns.ops, settings=settings, host=host)
    assert failed.value.failed_checks == ["gold.dim_coins:max_coins"]
    recorded = dict(sql(settings, f'''SELECT suite || '/' || check_name, outcome FROM "{ns.ops}".dq_results
        WHERE suite IN ('acme.gold_coins', 'gold.dim_coins')'''))
    assert recorded["acme.gold_coins/max_coins"] == "fail"
    assert recorded["gold.dim_coins/duplicates"] == "pass"


def test_a_failed_silver_gate_puts_silver_back_as_published(lakehouse_stack: Any) -> None:
    """Write-audit-publish for Silver, written in place: a failed ``gate.silver`` leaves the
    publication as it was and puts every Silver table — snapshot, rows and the jobs' incremental
    watermark — back where the last publication pinned it, so the next run recomputes it."""
    from cryptolake.core.pipeline import current_properties, current_snapshots, latest_publication
    from cryptolake.processing.quality.jobs import GateConfig, LayerGate

    settings: Settings = lakehouse_stack.settings
    mark = "cryptolake.incremental-watermark"
    with gold_namespaces(settings) as ns:
        catalog = load_catalog(settings)
        fx.load(catalog, ns.silver, fx.sample_rows(last=NEW_DAY - timedelta(days=1)))
        hourly = catalog.load_table((ns.silver, "ohlcv_1h"))
        with hourly.transaction() as tx:
            tx.set_properties({mark: "2022-02-14T23:59:00+00:00"})
        host = build_plugin_manager(settings, autoload=False, strict=True, plugins=[quality_plugin])

        def gate() -> JobResult:
            ctx = JobContext(kind="transform", name="gate.silver", settings=settings, host=host,
                             params={"namespace": ns.silver, "ops_namespace": ns.ops})
            return run_job(ctx, LayerGate(GateConfig(layer="silver")).run)

        published = gate().details["publication"]
        snapshots = current_snapshots(settings, ns.silver)
        counts = {t: sql(settings, f'SELECT count(*) FROM "{ns.silver}"."{t}"')[0][0] for t in snapshots}
        props = current_properties(settings, ns.silver)
        assert props["ohlcv_1h"] == {mark: "2022-02-14T23:59:00+00:00"}

        # a job writes a bad day in place and moves its watermark: the gate refuses it ...
        fx.load(catalog, ns.silver, bad_batch())
        hourly = catalog.load_table((ns.silver, "ohlcv_1h"))
        with hourly.transaction() as tx:
            tx.set_properties({mark: "2022-02-15T23:59:00+00:00"})
        assert current_snapshots(settings, ns.silver) != snapshots
        with pytest.raises(QualityGateFailed) as failed:
            gate()
        assert "silver.ohlcv_1h:positive_prices" in failed.value.failed_checks

        # ... and Silver is exactly as published: snapshots, rows, watermarks, publication
        assert current_snapshots(settings, ns.silver) == snapshots
        assert {t: sql(settings, f'SELECT count(*) FROM "{ns.silver}"."{t}"')[0][0]
                for t in snapshots} == counts
        assert current_properties(settings, ns.silver) == props
        latest = latest_publication(settings, "silver", ns.silver, ops_namespace=ns.ops)
        assert latest is not None and latest.publication_id == published
        (negative,), = sql(settings, f'SELECT count(*) FROM "{ns.silver}".ohlcv_1h WHERE close < 0')
        assert negative == 0
