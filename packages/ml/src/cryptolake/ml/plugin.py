"""The built-in ML plugin: models, the ML jobs and the ``cryptolake ml`` commands.

Registered through the ``cryptolake`` entry points exactly like a third-party plugin.
"""

from __future__ import annotations

from typing import Any

from cryptolake.core import PluginManifest, hookimpl
from cryptolake.core.registry import ModelPlugin, ModelRegistry, TransformPlugin, TransformRegistry

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="ml",
    version="0.1.0",
    core_api=">=0.1,<1",
    description="Forecasting models (GB, RF, LSTM, their stacking ensemble, a TFT), walk-forward "
    "evaluation against baselines, registry, predictions and scoring",
)

_EST = "cryptolake.ml.estimators"


@hookimpl
def cryptolake_register_tables(tables: Any) -> None:
    from cryptolake.ml.tables import ALL

    for contract in ALL:
        tables.add(contract)


@hookimpl
def cryptolake_register_models(registry: ModelRegistry) -> None:
    tab = frozenset({"classification", "probabilistic"})
    seq = tab | {"sequence"}
    registry.add(ModelPlugin(name="gb", implementation=f"{_EST}:GradientBoostingModel",
                             capabilities=tab, target="direction",
                             description="histogram gradient boosting (ensemble member)"))
    registry.add(ModelPlugin(name="rf", implementation=f"{_EST}:RandomForestModel",
                             capabilities=tab, target="direction",
                             description="random forest (ensemble member)"))
    registry.add(ModelPlugin(name="lstm", implementation=f"{_EST}:LSTMModel",
                             capabilities=seq, target="direction",
                             description="LSTM over a window of features (ensemble member)"))
    registry.add(ModelPlugin(name="tft", implementation=f"{_EST}:TemporalFusionTransformer",
                             capabilities=seq | {"regression"}, target="direction",
                             description="Temporal Fusion Transformer with quantile outputs (A/B)"))
    registry.add(ModelPlugin(name="ensemble", implementation="cryptolake.ml.ensemble:StackingEnsemble",
                             capabilities=seq, target="direction",
                             description="stacking of gb, rf, lstm with out-of-fold weights"))


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    from cryptolake.ml.jobs import MLJobConfig

    common: dict[str, Any] = {"config_model": MLJobConfig, "engine": "python", "layer": "ml"}
    registry.add(TransformPlugin(
        name="ml.retrain", implementation="cryptolake.ml.jobs:RetrainJob",
        description="retrain every model, evaluate walk-forward, register, promote",
        inputs=("gold.fact_price_hourly", "gold.fact_market_daily"),
        outputs=("ml.models", "ml.evaluations"), schedule="every 6 h", **common))
    registry.add(TransformPlugin(
        name="ml.predict", implementation="cryptolake.ml.jobs:PredictJob",
        capabilities=frozenset({"idempotent"}),
        description="champion and challenger predict the latest bar; Kafka ml.predictions",
        inputs=("gold.fact_price_hourly", "ml.models"), outputs=("ml.predictions",),
        schedule="hourly", **common))
    registry.add(TransformPlugin(
        name="ml.score", implementation="cryptolake.ml.jobs:ScoreJob",
        capabilities=frozenset({"idempotent"}),
        description="score predictions whose target candle landed, once",
        inputs=("gold.fact_price_hourly", "ml.predictions"), outputs=("ml.prediction_scores",),
        schedule="hourly", **common))


#: After this Gold step of a pipeline run on the workers, the serving models predict.
GOLD_STEP = "dbt.gold"


@hookimpl
def cryptolake_after_job(job: Any, result: Any) -> None:
    """After Gold was rebuilt by a pipeline on the workers, enqueue ``cryptolake.ml.predict``."""
    if job.name != GOLD_STEP or not job.params.get("pipeline"):
        return
    import logging

    try:
        from cryptolake.core.jobs.worker import make_app

        make_app(job.settings).send_task("cryptolake.ml.predict", kwargs={}, retry=False)
    except Exception as exc:  # no broker (an in-process run): the hourly beat entry predicts
        logging.getLogger(__name__).info("ml.predict not enqueued after %s: %s", job.name, exc)


@hookimpl
def cryptolake_register_commands(commands: Any) -> None:
    from cryptolake.ml.cli import register

    register(commands)
