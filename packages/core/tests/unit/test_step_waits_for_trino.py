"""A pipeline step on Trino waits for Trino to answer; other steps do not (make demo starts the
pipeline's Spark steps while Trino is still coming up)."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest

from cryptolake.core import JobResult, Settings
from cryptolake.core.clients import trino as trino_client
from cryptolake.core.errors import ServiceError
from cryptolake.core.pipeline import PipelineRun, Step, execute_step


class _Host:
    def __init__(self, settings: Settings, engines: dict[str, str]) -> None:
        self.settings = settings
        self.ran: list[str] = []
        host = self

        class _Job:
            def __init__(self, name: str) -> None:
                self.name = name

            def run(self, ctx: Any) -> JobResult:
                host.ran.append(self.name)
                return JobResult(rows_out=1)

        def entry(name: str) -> Any:
            return SimpleNamespace(engine=engines[name], load=lambda: lambda _cfg: _Job(name),
                                   configure=lambda _raw: None)

        self.transforms = SimpleNamespace(get=entry)
        self.sources = self.transforms

    def before_job(self, **_: Any) -> None: ...
    def after_job(self, **_: Any) -> None: ...
    def on_job_error(self, **_: Any) -> None: ...


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def wait(settings: Settings, **_: Any) -> float:
        calls.append(settings.trino.host)
        return 0.0

    monkeypatch.setattr(trino_client, "wait_until_ready", wait)
    return calls


def test_only_steps_on_trino_wait_for_it(tmp_path: Any, waits: list[str]) -> None:
    engines = {"silver.x": "spark", "gate.silver": "trino", "dbt.gold": "dbt", "py.y": "python"}
    host = _Host(Settings(home=tmp_path), engines)
    run = PipelineRun(pipeline="daily", source="replay", start=None, end=None)
    for i, name in enumerate(engines):
        kind = "gate" if name.startswith("gate.") else "transform"
        outcome = execute_step(host, run, i, Step(kind=kind, name=name), record=False)  # type: ignore[arg-type]
        assert outcome.status == "succeeded"
    assert host.ran == list(engines)
    assert len(waits) == 2  # the gate and dbt, not Spark nor Python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_trino_that_never_answers_is_a_clear_error(tmp_path: Any) -> None:
    settings = Settings(home=tmp_path)
    settings.trino.port = _free_port()  # nothing listens there
    t0 = time.monotonic()
    heard: list[str] = []
    with pytest.raises(ServiceError) as info:
        trino_client.wait_until_ready(settings, timeout_s=1.5, on_wait=heard.append)
    assert 1.5 <= time.monotonic() - t0 < 10
    assert info.value.service == "trino" and f":{settings.trino.port}" in info.value.cause
    assert "stack logs trino" in info.value.fix
    assert heard == [heard[0]] and heard[0].startswith("waiting for Trino")
