"""Gold is incremental by what changed in Silver, reconciles with it, and publishes atomically.

Real Trino, real Iceberg, the recorded sample (issue 11, items 1 and 5).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import _silver_fixtures as fx
import pytest
from _gold_env import GoldNamespaces, gold_namespaces, sql

import cryptolake.processing.dbt_plugin as dbt_plugin
import cryptolake.processing.quality.plugin as quality_plugin
from cryptolake.core import JobContext, QualityGateFailed, Settings, build_plugin_manager, run_job
from cryptolake.core.clients import load_catalog
from cryptolake.core.pipeline import latest_publication
from cryptolake.processing.dbt import DbtBuildConfig, DbtGoldJob, table_snapshots
from cryptolake.processing.quality import quality_run
from cryptolake.processing.quality.jobs import GateConfig, LayerGate

pytestmark = pytest.mark.integration

LAST = date(2022, 2, 15)
BACKFILL = (date(2022, 1, 1), date(2022, 1, 10))  # older than anything Gold holds


def _without_ada(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {
        "ohlcv_1h": [r for r in rows["ohlcv_1h"] if r["symbol"] != "ADAUSDT"],
        "market_daily": [r for r in rows["market_daily"] if r["coin_id"] != "cardano"],
        "fear_greed": rows["fear_greed"],
    }


@pytest.fixture(scope="module")
def env(lakehouse_stack: Any) -> Iterator[tuple[Settings, GoldNamespaces]]:
    settings: Settings = lakehouse_stack.settings
    with gold_namespaces(settings) as ns:
        fx.load(load_catalog(settings), ns.silver, _without_ada(fx.sample_rows(date(2022, 1, 20), LAST)))
        yield settings, ns


def gold(settings: Settings, ns: GoldNamespaces, **cfg: Any) -> tuple[JobContext, DbtGoldJob]:
    host = build_plugin_manager(settings, autoload=False, strict=True,
                                plugins=[dbt_plugin, quality_plugin])
    ctx = JobContext(kind="transform", name="dbt.gold", settings=settings, host=host, params={
        "silver_schema": ns.silver, "audit_schema": ns.audit, "published_schema": ns.published,
        "ops_namespace": ns.ops,
    })
    return ctx, DbtGoldJob(DbtBuildConfig(change_slack_minutes=0, **cfg))


def publish_silver(settings: Settings, ns: GoldNamespaces) -> Any:
    """The Silver gate on the test's Silver namespace: audits it, then publishes it."""
    host = build_plugin_manager(settings, autoload=False, strict=True, plugins=[quality_plugin])
    ctx = JobContext(kind="gate", name="gate.silver", settings=settings, host=host,
                     params={"namespace": ns.silver, "ops_namespace": ns.ops})
    run_job(ctx, LayerGate(GateConfig()).run)
    return latest_publication(settings, "silver", ns.silver, ops_namespace=ns.ops)


def count(settings: Settings, schema: str, table: str, where: str = "true") -> int:
    (n,), = sql(settings, f'SELECT count(*) FROM "{schema}"."{table}" WHERE {where}')
    return int(n)


def test_a_backfill_of_any_age_reaches_gold_in_the_next_run(env: tuple[Settings, GoldNamespaces]) -> None:
    settings, ns = env
    silver_pub = publish_silver(settings, ns)
    ctx, job = gold(settings, ns)
    first = run_job(ctx, job.run)
    assert first.details["silver_snapshots"] == {
        t: silver_pub.tables[t] for t in ("ohlcv_1h", "market_daily", "fear_greed")}
    assert first.details["published"] and first.details["incremental"] == "everything"
    assert count(settings, ns.published, "fact_price_hourly", "symbol = 'ADAUSDT'") == 0

    # a new coin's history, three weeks older than the newest Gold row, lands in Silver
    backfill = fx.sample_rows(*BACKFILL)
    ada = [r for r in backfill["ohlcv_1h"] if r["symbol"] == "ADAUSDT"]
    fx.append(load_catalog(settings), ns.silver, "ohlcv_1h", ada)
    hours = len(ada)
    assert hours == 10 * 24

    publish_silver(settings, ns)  # the Silver gate passes and publishes the backfill
    from cryptolake.core.cli.lakehouse_cmd import layer_digest

    before = {r["table"]: r["digest"] for r in layer_digest(settings, (ns.published,))}
    ctx, job = gold(settings, ns)
    second = run_job(ctx, job.run)
    assert second.details["incremental"].startswith("changed since"), second.details
    # ... a mart is copied (a new snapshot) exactly when its content changed
    after = {r["table"]: r["digest"] for r in layer_digest(settings, (ns.published,))}
    assert before["fact_price_hourly"] != after["fact_price_hourly"]
    for mart, snap in second.snapshot_ids.items():
        table = mart.rsplit(".", 1)[1]
        assert (snap == first.snapshot_ids[mart]) == (before[table] == after[table]), mart
    # ... it reaches every mart in this ordinary run
    assert count(settings, ns.published, "fact_price_hourly", "symbol = 'ADAUSDT'") == hours
    assert count(settings, ns.published, "market_ohlc", "symbol = 'ADAUSDT'") == hours + hours // 4 + 10
    assert count(settings, ns.published, "fact_market_daily", "symbol = 'ADAUSDT'") == 10
    assert count(settings, ns.published, "dim_coins", "symbol = 'ADAUSDT'") == 1
    # ... and an incremental mart is published by merging just the rows this build rebuilt (the
    # backfill's hours), not by copying the whole mart again
    (added,), = sql(settings, f"""SELECT CAST(summary['added-records'] AS bigint)
        FROM "{ns.published}"."fact_price_hourly$snapshots" ORDER BY committed_at DESC LIMIT 1""")
    assert added == hours < count(settings, ns.published, "fact_price_hourly"), added
    # ... at a cost that tracks its size: only the backfilled keys were rebuilt
    written = second.details["rows_written"]
    assert written["fact_price_hourly"] == hours, written
    assert written["market_ohlc"] == hours + hours // 4 + 10, written
    assert written["int_prices__rolled_up_daily"] == 10, written
    # ... and the candles are right: the daily candle of a backfilled day from its hours
    day = [r for r in ada if r["open_time"].date() == BACKFILL[0]]
    (o, h, low, c, n), = sql(settings, f"""SELECT open, high, low, close, bar_count
        FROM "{ns.published}".market_ohlc WHERE symbol = 'ADAUSDT' AND timeframe = '1d'
        AND bucket_start = TIMESTAMP '{BACKFILL[0].isoformat()} 00:00:00 UTC'""")
    assert (o, h, low, c, n) == (day[0]["open"], max(r["high"] for r in day),
                                 min(r["low"] for r in day), day[-1]["close"], 24)
    # ... the BTC/ETH rows were not rewritten (loaded_at of the first build)
    (stale,), = sql(settings, f"""SELECT count(*) FROM "{ns.published}".fact_price_hourly
        WHERE symbol <> 'ADAUSDT' AND loaded_at >= (SELECT min(loaded_at) FROM
        "{ns.published}".fact_price_hourly WHERE symbol = 'ADAUSDT')""")
    assert stale == 0

    # an hour of Silver missing in Gold (the defect of issue 11) fails the reconciliation
    sql(settings, f"""DELETE FROM "{ns.published}".fact_price_hourly WHERE symbol = 'ADAUSDT'
        AND open_time = TIMESTAMP '{BACKFILL[0].isoformat()} 05:00:00 UTC'""")
    with pytest.raises(QualityGateFailed) as failed:
        quality_run("gold", namespace=ns.published, suites=["gold.fact_price_hourly"],
                    ops_namespace=ns.ops, settings=settings,
                    host=build_plugin_manager(settings, autoload=False, plugins=[quality_plugin]))
    assert {"gold.fact_price_hourly:reconciled_keys",
            "gold.fact_price_hourly:reconciled_counts"} <= set(failed.value.failed_checks)


def test_a_failed_gate_leaves_published_state_and_audit_area_as_before(
    env: tuple[Settings, GoldNamespaces],
) -> None:
    settings, ns = env
    # a batch with a negative price reaches Silver, unpublished (its gate would refuse it)
    bad = [dict(r) for r in fx.sample_rows(LAST, LAST)["ohlcv_1h"] if r["symbol"] == "BTCUSDT"][:2]
    for r in bad:
        r.update(open_time=r["open_time"] + timedelta(days=1), close=-1.0, low=-1.0,
                 updated_at=datetime.now(UTC))
    fx.append(load_catalog(settings), ns.silver, "ohlcv_1h", bad)
    # Gold reads the published Silver: the bad rows do not reach it
    ctx, job = gold(settings, ns)
    run_job(ctx, job.run)
    pub = latest_publication(settings, "gold", ns.published, ops_namespace=ns.ops)
    assert pub is not None
    assert count(settings, ns.published, "fact_price_hourly", "close < 0") == 0
    audit_before = table_snapshots(settings, ns.audit)
    published_before = table_snapshots(settings, ns.published)
    # the publication pins every mart at its current snapshot; readers resolve it
    assert pub.tables == {t: published_before[t] for t in pub.tables}
    assert set(pub.tables) == {"dim_coins", "dim_dates", "fact_market_daily", "fact_price_hourly",
                               "market_ohlc"}
    pinned = count(settings, ns.published, "fact_price_hourly")
    assert sql(settings, f"SELECT count(*) FROM {pub.relation('fact_price_hourly')}")[0][0] == pinned

    # read at its head, Silver's bad batch reaches the Gold audit: the Gold gate refuses it
    ctx, job = gold(settings, ns, read_published_silver=False)
    with pytest.raises(QualityGateFailed) as failed:
        run_job(ctx, job.run)
    assert "gold.fact_price_hourly:positive_prices" in failed.value.failed_checks
    # published state, publication and audit area: exactly as before
    assert table_snapshots(settings, ns.published) == published_before
    after = latest_publication(settings, "gold", ns.published, ops_namespace=ns.ops)
    assert after is not None and after.publication_id == pub.publication_id
    assert table_snapshots(settings, ns.audit) == audit_before
    assert count(settings, ns.audit, "fact_price_hourly") == pinned
