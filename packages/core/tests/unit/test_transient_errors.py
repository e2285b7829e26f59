"""A service that goes away under a task is retried; bad data and our own bugs are not.

Found by the chaos harness: PostgreSQL killed while the replay step committed Bronze made the
step fail with a raw ``OperationalError`` (not retried), and ``fail_pipeline`` — with the
catalog still starting up — failed too, so the run stayed "running" in ``ops.pipeline_runs``
for ever.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
import sqlalchemy.exc
from botocore.exceptions import EndpointConnectionError

from cryptolake.core.errors import (
    ConfigError,
    QualityGateFailed,
    RecordRejected,
    TransientError,
    transient_cause,
)
from cryptolake.core.jobs import worker
from cryptolake.core.pipeline import PipelineRun, Step
from cryptolake.core.settings import Settings


def _catalog_down() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError(
        "INSERT INTO iceberg_tables ...", {},
        psycopg2.OperationalError("server closed the connection unexpectedly"),
    )


def _raised_while(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - the implicit context is what is tested
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        _catalog_down(),
        psycopg2.OperationalError('FATAL:  the database system is starting up'),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9000/warehouse"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        # a Spark job's Java error arrives as text
        RuntimeError("java.net.ConnectException: Connection refused (Connection refused)"),
        # the recording of a failure failed because the catalog went away
        _raised_while(_catalog_down(), ValueError("the job's own error")),
    ],
    ids=["sqlalchemy", "psycopg2-starting", "s3", "refused", "timeout", "java-text", "context"],
)
def test_a_service_going_away_is_transient(exc: BaseException) -> None:
    assert transient_cause(exc) is not None


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("price is not a number"),
        KeyError("symbol"),
        RecordRejected("binance.klines", "bad close"),
        QualityGateFailed("silver", ["duplicates"]),
        ConfigError("CRYPTOLAKE_COINGECKO__API_KEY is refused (401)"),
        # a verdict on the chain wins over a connection error beneath it
        _raised_while(ConfigError("bad setting"), ConnectionRefusedError(111, "refused")),
    ],
    ids=["value", "key", "rejected", "gate", "config", "config-over-connection"],
)
def test_bad_data_bad_config_and_bugs_are_not(exc: BaseException) -> None:
    assert transient_cause(exc) is None


def _step_args() -> dict[str, Any]:
    run = PipelineRun(pipeline="daily", source="replay", start=None, end=None)
    step = Step(kind="ingest", name="replay.recorded")
    return {"run": run.as_dict(), "index": 0, "step": step.as_dict()}


class _Task:
    app = None


def test_a_step_whose_catalog_went_away_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    def catalog_down(*_: Any, **__: Any) -> Any:
        raise _catalog_down()

    monkeypatch.setattr(worker, "execute_step", catalog_down)
    monkeypatch.setattr(worker, "_default_host", lambda: None)
    with pytest.raises(TransientError, match="replay.recorded.*OperationalError") as err:
        worker._run_step(_Task(), **_step_args())
    assert isinstance(err.value.__cause__, sqlalchemy.exc.OperationalError)


def test_a_step_with_bad_data_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def bad(*_: Any, **__: Any) -> Any:
        raise ValueError("row 3: close is not a number")

    monkeypatch.setattr(worker, "execute_step", bad)
    monkeypatch.setattr(worker, "_default_host", lambda: None)
    with pytest.raises(ValueError, match="row 3"):
        worker._run_step(_Task(), **_step_args())


def test_the_end_of_a_run_is_recorded_once_the_catalog_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = worker.make_app(Settings())
    for name in ("cryptolake.core.fail_pipeline", "cryptolake.core.finish_pipeline"):
        task = app.tasks[name]
        assert TransientError in task.autoretry_for, name
        assert task.max_retries >= 10 and task.acks_late, name

    from cryptolake.core import pipeline

    def catalog_starting(*_: Any, **__: Any) -> Any:
        raise psycopg2.OperationalError("FATAL:  the database system is starting up")

    monkeypatch.setattr(pipeline, "steps_of", catalog_starting)
    fail = app.tasks["cryptolake.core.fail_pipeline"]
    with pytest.raises(TransientError, match="fail_pipeline.*starting up"):
        fail.run(run=_step_args()["run"], started="2026-12-01T00:00:00+00:00", steps=[])
