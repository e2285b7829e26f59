"""The Spark transforms as `cryptolake transform list` sees them, and their configuration."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cryptolake.core import ConfigError, build_plugin_manager
from cryptolake.core.settings import Settings
from cryptolake.core.tables import get_contract
from cryptolake.processing.spark import _routes
from cryptolake.processing.spark._common import Window, ceil_to, floor_to
from cryptolake.processing.spark.anomalies import AnomaliesConfig
from cryptolake.processing.spark.stream import StreamConfig
from cryptolake.processing.spark.vwap import VwapConfig

SILVER_JOBS = {
    "silver.trades", "silver.ohlcv_1m", "silver.ohlcv_1h", "silver.market_daily",
    "silver.fear_greed", "silver.vwap", "silver.anomalies",
}


@pytest.mark.installed  # discovers the built-in plugins through their entry points
def test_every_job_is_a_registered_spark_transform(cryptolake_settings: Settings) -> None:
    host = build_plugin_manager(cryptolake_settings, autoload=True, strict=True)
    names = set(host.transforms.names())
    assert SILVER_JOBS | {"bronze.binance_stream", "maintenance.iceberg"} <= names
    for name in SILVER_JOBS:
        entry = host.transforms.get(name)
        assert entry.engine == "spark" and entry.layer == "silver"
        assert {"idempotent", "time_range"} <= entry.capabilities
        assert entry.schedule
        # every table a job reads or writes has a contract: names agree with the core
        for table in (*entry.inputs, *entry.outputs):
            get_contract(table)
        impl = entry.load()
        assert callable(getattr(impl, "run", None))


@pytest.mark.installed  # discovers the built-in plugins through their entry points
def test_listing_transforms_does_not_start_or_import_spark() -> None:
    code = (
        "import sys\n"
        "from cryptolake.core import build_plugin_manager\n"
        "h = build_plugin_manager(autoload=True, strict=True)\n"
        "assert 'silver.vwap' in h.transforms\n"
        "print('pyspark' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stream_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert StreamConfig().trigger_seconds == 30.0
    monkeypatch.setenv("CRYPTOLAKE_STREAM__TRIGGER_SECONDS", "5")
    assert StreamConfig().trigger_seconds == 5.0
    assert StreamConfig(trigger_seconds=2).trigger_seconds == 2.0


def test_stream_refuses_a_topic_without_route() -> None:
    with pytest.raises(ConfigError, match="no Bronze route for topic.*kraken.trades"):
        StreamConfig(topics=["binance.aggtrade", "kraken.trades"]).routes()


def test_routes_fill_every_required_bronze_column() -> None:
    for route in _routes.DEFAULT_ROUTES:
        contract = get_contract(f"bronze.{route.table}")
        assert _routes.unfilled_required(route, contract) == []
        assert set(contract.key) <= set(route.fields)


def test_vwap_slide_longer_than_window_is_refused() -> None:
    assert VwapConfig().window_minutes == 5 and VwapConfig().slide_minutes == 1
    with pytest.raises(ValueError, match="slide_minutes=10 exceeds window_minutes=5"):
        VwapConfig(slide_minutes=10)


def test_anomaly_config_defaults_and_bounds() -> None:
    cfg = AnomaliesConfig()
    assert cfg.window_size == 24 and cfg.threshold == 3.0 and cfg.intervals == ["1h", "1m"]
    with pytest.raises(ValueError):
        AnomaliesConfig(window_size=1)
    with pytest.raises(ValueError):
        AnomaliesConfig(intervals=["5m"])


def test_windows_align_to_whole_buckets() -> None:
    t = datetime(2024, 12, 1, 10, 17, 42, tzinfo=UTC)
    assert floor_to(t, timedelta(minutes=1)) == datetime(2024, 12, 1, 10, 17, tzinfo=UTC)
    assert ceil_to(t, timedelta(hours=1)) == datetime(2024, 12, 1, 11, tzinfo=UTC)
    exact = datetime(2024, 12, 1, 11, tzinfo=UTC)
    assert ceil_to(exact, timedelta(hours=1)) == exact
    w = Window(t, t + timedelta(minutes=90)).aligned(timedelta(hours=1))
    assert (w.start, w.end) == (datetime(2024, 12, 1, 10, tzinfo=UTC),
                                datetime(2024, 12, 1, 12, tzinfo=UTC))
    assert w.sql("open_time") == ("open_time >= TIMESTAMP '2024-12-01 10:00:00.000000' AND "
                                  "open_time < TIMESTAMP '2024-12-01 12:00:00.000000'")
    assert Window().sql("x") == "TRUE"
    naive = Window(datetime(2024, 1, 1), None).aligned(timedelta(days=1))
    assert naive.start == datetime(2024, 1, 1, tzinfo=UTC) and naive.end is None


def test_from_after_to_is_a_config_error(cryptolake_settings: Settings) -> None:
    from cryptolake.core import JobContext

    host = build_plugin_manager(cryptolake_settings, autoload=False)
    t = datetime(2024, 1, 2, tzinfo=UTC)
    ctx = JobContext(kind="transform", name="silver.trades", settings=cryptolake_settings,
                     host=host, start=t, end=t - timedelta(days=1))
    with pytest.raises(ConfigError, match="--from .* must be before --to"):
        Window.of(ctx)


def test_every_stream_setting_is_listed_in_known_env() -> None:
    from cryptolake.core.known_env import KNOWN_ENV
    from cryptolake.processing.spark.stream import StreamConfig

    listed = {e.name for e in KNOWN_ENV if e.owner == "cryptolake-processing"}
    assert {f"CRYPTOLAKE_STREAM__{f.upper()}" for f in StreamConfig.model_fields} == listed


def test_a_window_of_ranges_recomputes_only_them() -> None:
    from cryptolake.processing.spark._common import merge_spans

    d = datetime(2023, 12, 31, 5, tzinfo=UTC)
    far = datetime(2024, 12, 30, 23, 30, tzinfo=UTC)
    w = Window.union([(far, far + timedelta(minutes=1)), (d, d + timedelta(hours=2)),
                      (d + timedelta(hours=1), d + timedelta(hours=3))])
    assert w.spans == ((d, d + timedelta(hours=3)), (far, far + timedelta(minutes=1)))
    assert (w.start, w.end) == (d, far + timedelta(minutes=1))
    sql = w.sql("t")
    assert "(t >= TIMESTAMP '2023-12-31 05:00:00.000000' AND t < TIMESTAMP '2023-12-31 " in sql
    assert " OR (t >= TIMESTAMP '2024-12-30 23:30:00.000000'" in sql
    # aligning and widening act on each range, and ranges that come to overlap merge
    a = w.aligned(timedelta(days=1))
    assert a.spans == ((datetime(2023, 12, 31, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
                       (datetime(2024, 12, 30, tzinfo=UTC), datetime(2024, 12, 31, tzinfo=UTC)))
    wide = a.widened(after=timedelta(days=400))
    assert wide.spans is None and wide.start == a.start
    assert "2 ranges" in w.describe()
    # one range is a plain window; more than the limit merge across their smallest gaps
    assert Window.union([(d, far)]) == Window(d, far)
    many = [(d + timedelta(days=i), d + timedelta(days=i, hours=1)) for i in (0, 1, 2, 10, 30)]
    assert merge_spans(many, limit=3) == (
        (d, d + timedelta(days=2, hours=1)), many[3], many[4])
    with pytest.raises(ValueError):
        Window.union([])



def test_catch_up_counts_the_records_the_stream_committed(tmp_path: Path) -> None:
    import json as _json

    from cryptolake.processing.spark.catchup import committed_offsets, lagging, records_between

    assert committed_offsets(tmp_path) == {}
    for d in ("offsets", "commits"):
        (tmp_path / d).mkdir()
    for batch, offsets in ((0, {"0": 5}), (1, {"0": 9, "1": 4})):
        (tmp_path / "offsets" / str(batch)).write_text(
            "v1\n{}\n" + _json.dumps({"p.binance.kline.1m": offsets}) + "\n")
    (tmp_path / "commits" / "0").write_text("v1\n")
    before = committed_offsets(tmp_path)  # batch 1 is planned, not committed: it does not count
    assert before == {("p.binance.kline.1m", 0): 5}
    (tmp_path / "commits" / "1").write_text("v1\n")
    after = committed_offsets(tmp_path)
    assert records_between(before, after) == 4 + 4  # 5 -> 9, and a new partition from 0
    assert lagging({("p.binance.kline.1m", 1): 6}, after) == {("p.binance.kline.1m", 1): 2}
