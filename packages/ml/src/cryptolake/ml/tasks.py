"""The ML Celery tasks, added to the CryptoLake Celery app (entry point ``cryptolake.tasks``).

==================================  ======  ====================================================
task                                queue   what it runs (one-step run in ops.pipeline_runs)
==================================  ======  ====================================================
``cryptolake.ml.retrain_models``    heavy   ``ml.retrain`` — beat: every 6 hours (minute 20)
``cryptolake.ml.predict``           light   ``ml.predict`` — beat: hourly (minute 7)
``cryptolake.ml.score``             light   ``ml.score``   — beat: hourly (minute 12)
==================================  ======  ====================================================

Keyword arguments: ``symbols`` (list), ``fast`` (bool), ``config`` (more :class:`MLJobConfig`
fields, e.g. namespaces), ``run_id`` (the ``ops.pipeline_runs`` run id to use; default: the first
12 hex digits of the Celery task id, dashes removed). Each returns the run id.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

HEAVY_QUEUE = "cryptolake.heavy"
RETRAIN, PREDICT, SCORE = "cryptolake.ml.retrain_models", "cryptolake.ml.predict", "cryptolake.ml.score"


def run_id_for(task_id: str | None) -> str | None:
    return task_id.replace("-", "")[:12] if task_id else None


def _run(task: Any, step: str, symbols: list[str] | None, fast: bool,
         config: dict[str, Any] | None, run_id: str | None) -> str:
    from cryptolake.core.logging import bind
    from cryptolake.ml.jobs import run_ml_step

    host = getattr(task.app, "plugin_host", None)
    if host is None:
        from cryptolake.core.manager import build_plugin_manager

        host = build_plugin_manager()
    cfg = {**(config or {})}
    if symbols is not None:
        cfg["symbols"] = symbols
    if fast:
        cfg["fast"] = True
    rid = run_id or run_id_for(getattr(task.request, "id", None))
    with bind(step=step):
        run, _ = run_ml_step(host, step, cfg, run_id=rid, via="workers")
    return str(run)


def retrain_models(self: Any, *, symbols: list[str] | None = None, fast: bool = False,
                   config: dict[str, Any] | None = None, run_id: str | None = None) -> str:
    return _run(self, "ml.retrain", symbols, fast, config, run_id)


def predict(self: Any, *, symbols: list[str] | None = None, fast: bool = False,
            config: dict[str, Any] | None = None, run_id: str | None = None) -> str:
    return _run(self, "ml.predict", symbols, fast, config, run_id)


def score(self: Any, *, symbols: list[str] | None = None, fast: bool = False,
          config: dict[str, Any] | None = None, run_id: str | None = None) -> str:
    return _run(self, "ml.score", symbols, fast, config, run_id)


def beat_entries() -> dict[str, Any]:
    return {
        "ml-retrain": {"task": RETRAIN, "schedule": crontab(minute="20", hour="*/6")},
        "ml-predict": {"task": PREDICT, "schedule": crontab(minute="7")},
        "ml-score": {"task": SCORE, "schedule": crontab(minute="12")},
    }


def register_tasks(app: Any) -> None:
    """Add the ML tasks, their route and their beat entries to ``app``."""
    app.task(name=RETRAIN, bind=True, acks_late=True)(retrain_models)
    app.task(name=PREDICT, bind=True, acks_late=True)(predict)
    app.task(name=SCORE, bind=True, acks_late=True)(score)
    routes = dict(app.conf.task_routes or {})
    routes[RETRAIN] = {"queue": HEAVY_QUEUE}
    app.conf.task_routes = routes
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **beat_entries()}
