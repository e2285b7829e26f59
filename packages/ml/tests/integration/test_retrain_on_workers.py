"""Retrain on the Celery workers, end to end, on the bundled sample (fast settings).

Real Redis, Celery worker, PostgreSQL catalog, S3 warehouse, Trino and Kafka. The bundled replay
sample's hourly candles and Fear & Greed index are written as Gold-shaped tables into a private
namespace; the worker retrains there (task ``cryptolake.ml.retrain_models``), the run lands in
``ops.pipeline_runs``; then the serving models predict (``ml.predictions`` + Kafka), a new candle
lands and the predictions are scored once; a model is rebuilt exactly from its snapshots.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

pytestmark = [pytest.mark.integration, pytest.mark.installed]

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "packages" / "ingest-plugins" / "src" / "cryptolake" / "ingest" / "replay" / "sample"
SYMBOLS = ["BTCUSDT", "ETHUSDT"]


def _gold(namespace: str, settings: Any, candles: Any, fear_greed: Any) -> None:
    import pyarrow as pa

    from cryptolake.core.clients import load_catalog
    from cryptolake.core.tables import ensure_table
    from cryptolake.core.tables.gold import FACT_MARKET_DAILY, FACT_PRICE_HOURLY

    catalog = load_catalog(settings)
    hourly = ensure_table(catalog, FACT_PRICE_HOURLY, namespace=namespace)
    rows = candles.assign(date=candles["open_time"].dt.date)
    hourly.append(pa.Table.from_pandas(rows[["symbol", "open_time", "date", "open", "high", "low",
                                             "close", "volume"]], preserve_index=False)
                  .cast(pa.schema([FACT_PRICE_HOURLY.arrow_schema().field(n) for n in
                                   ["symbol", "open_time", "date", "open", "high", "low", "close",
                                    "volume"]])))
    daily = ensure_table(catalog, FACT_MARKET_DAILY, namespace=namespace)
    if fear_greed.empty:
        return
    fg = fear_greed.assign(symbol="BTCUSDT", price=1.0, date=fear_greed["date"].dt.date,
                           fear_greed_value=fear_greed["value"].astype("int32"))
    schema = pa.schema([FACT_MARKET_DAILY.arrow_schema().field(n)
                        for n in ["symbol", "date", "price", "fear_greed_value"]])
    daily.append(pa.Table.from_pandas(fg[["symbol", "date", "price", "fear_greed_value"]],
                                      preserve_index=False).cast(schema))


@pytest.fixture
def worker(lakehouse_stack: Any, kafka_topic_prefix: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    db = 4 + (uuid.uuid4().int % 5) * 2
    env = {**os.environ, "CRYPTOLAKE_JOBS__BROKER_DB": str(db),
           "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": kafka_topic_prefix,
           "CRYPTOLAKE_JOBS__RESULT_DB": str(db + 1), "CRYPTOLAKE_LOG__FORMAT": "text"}
    log = open(tmp_path / "worker.log", "a")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "cryptolake.core.cli", "worker", "-c", "1",
         "-n", f"ml-{uuid.uuid4().hex[:6]}@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    yield env
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    print((tmp_path / "worker.log").read_text()[-4000:])


def _wait_run(settings: Any, run_id: str, timeout: float) -> dict[str, Any]:
    from cryptolake.core.pipeline import steps_of

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = {r["step"]: r for r in steps_of(settings, run_id)}
        if "*" in steps:
            return steps
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def _send(env: dict[str, str], task: str, config: dict[str, Any]) -> str:
    run_id = uuid.uuid4().hex[:12]
    code = ("import json,sys; from cryptolake.core.jobs.worker import make_app; "
            f"make_app().send_task({task!r}, kwargs=json.loads(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, json.dumps({"config": config, "run_id": run_id})],
                   env=env, check=True)
    return run_id


def test_retrain_predict_score_rebuild(
    worker: dict[str, str], lakehouse_namespace: str, lakehouse_settings: Any
) -> None:
    import pandas as pd
    from confluent_kafka import Consumer

    from cryptolake.core.clients import consumer_config, topic_name
    from cryptolake.core.manager import build_plugin_manager
    from cryptolake.ml.features import load_csv_dir
    from cryptolake.ml.registry import ModelStore
    from cryptolake.ml.serving import TOPIC
    from cryptolake.ml.training import rebuild

    ns = lakehouse_namespace
    settings = lakehouse_settings
    candles, fear_greed = load_csv_dir(SAMPLE, SYMBOLS)
    last = candles["open_time"].max()
    held_back = candles[candles["open_time"] == last]  # lands later, to be scored
    _gold(ns, settings, candles[candles["open_time"] < last], fear_greed)
    config = {"fast": True, "symbols": SYMBOLS, "gold_namespace": ns, "ml_namespace": ns}

    run_id = _send(worker, "cryptolake.ml.retrain_models", config)
    steps = _wait_run(settings, run_id, 600)
    assert steps["*"]["status"] == "succeeded", steps
    assert steps["transform:ml.retrain"]["via"] == "workers"

    store = ModelStore(settings, ns)
    models = store.models()
    serving = {(m["horizon_h"], m["state"]): m["name"] for m in models if m["state"] != "candidate"}
    assert serving == {(1, "champion"): "ensemble", (1, "challenger"): "tft",
                       (24, "champion"): "ensemble", (24, "challenger"): "tft"}
    for m in models:
        snaps = json.loads(m["trained_snapshots_json"])
        assert set(snaps) == {f"{ns}.fact_price_hourly", f"{ns}.fact_market_daily"}
        assert m["artifact_uri"].startswith(f"s3://{settings.s3.bucket}/{ns}/models/")
    evaluations = store.rows("evaluations")
    names = {e["model_name"] for e in evaluations}
    assert {"ensemble", "tft", "gb", "rf", "lstm", "always_up", "persistence", "contrarian",
            "momentum", "logreg"} <= names
    assert {e["period"] for e in evaluations} == {"walk_forward", "holdout"}
    assert {e["symbol"] for e in evaluations} == {"ALL", *SYMBOLS}
    assert all(e["ci_low"] <= e["accuracy"] <= e["ci_high"] for e in evaluations if e["n"])

    run_id = _send(worker, "cryptolake.ml.predict", config)
    assert _wait_run(settings, run_id, 300)["*"]["status"] == "succeeded"
    predictions = store.rows("predictions")
    assert len(predictions) == 2 * 2 * len(SYMBOLS)  # champion + challenger, 2 horizons
    assert {p["role"] for p in predictions} == {"champion", "challenger"}
    bar = last - pd.Timedelta(hours=1)
    assert {pd.Timestamp(p["target_time"]) - pd.Timedelta(hours=p["horizon_h"]) for p in predictions} == {bar}
    consumer = Consumer(consumer_config(f"test-{uuid.uuid4().hex[:6]}", settings))
    consumer.subscribe([topic_name(TOPIC, settings)])
    messages: list[Any] = []
    deadline = time.monotonic() + 60
    while len(messages) < len(predictions) and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is not None and not msg.error() and (value := msg.value()) is not None:
            messages.append(json.loads(value))
    consumer.close()
    assert {m["prediction_id"] for m in messages} == {p["prediction_id"] for p in predictions}

    # the candle at the 1-hour target lands: the 1-hour predictions are scored, once
    _gold(ns, settings, held_back, fear_greed.iloc[:0])
    for _ in range(2):
        run_id = _send(worker, "cryptolake.ml.score", config)
        assert _wait_run(settings, run_id, 300)["*"]["status"] == "succeeded"
    scores = store.rows("prediction_scores")
    assert len(scores) == 2 * len(SYMBOLS)
    assert {s["horizon_h"] for s in scores} == {1}
    assert len({s["prediction_id"] for s in scores}) == len(scores)

    host = build_plugin_manager(settings)
    for name in ("ensemble", "tft"):
        model = next(m for m in models if m["name"] == name and m["horizon_h"] == 1)
        result = rebuild(host, model["model_id"], ml_namespace=ns)
        assert result.rows > 0 and result.exact, result
