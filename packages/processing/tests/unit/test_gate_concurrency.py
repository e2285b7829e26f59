"""How a gate runs its suites: the ``concurrent`` ones side by side, the others alone first, and
the results recorded in entry order whatever order the suites finish in."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pydantic import BaseModel

from cryptolake.core import (
    CheckResult,
    JobContext,
    PluginManifest,
    QualitySuitePlugin,
    build_plugin_manager,
    hookimpl,
)
from cryptolake.core.logging import bind, current_context
from cryptolake.processing.quality import gate

_lock = threading.Lock()
_events: list[tuple[str, str]] = []  # (suite, "start" | "end"), in the order they happened
_in_flight = 0
_most_in_flight = 0


class SleepConfig(BaseModel):
    seconds: float = 0.05
    fail: bool = False


class Sleepy:
    """A suite that holds its slot a moment and records when it ran, and the run id it saw."""

    def __init__(self, config: SleepConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> list[CheckResult]:
        global _in_flight, _most_in_flight
        with _lock:
            _in_flight += 1
            _most_in_flight = max(_most_in_flight, _in_flight)
            _events.append((ctx.name, "start"))
        try:
            time.sleep(self.config.seconds)
            if self.config.fail:
                raise RuntimeError("this suite breaks")
            return [CheckResult("ran", "silver.t", "pass",
                                message=str(current_context().get("run_id")))]
        finally:
            with _lock:
                _in_flight -= 1
                _events.append((ctx.name, "end"))


class Suites:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="gate-test", version="1.0", core_api=">=0.1,<1")

    def __init__(self, concurrent: dict[str, bool]) -> None:
        self.concurrent = concurrent

    @hookimpl
    def cryptolake_register_quality_suites(self, registry: Any) -> None:
        for name, concurrent in self.concurrent.items():
            registry.add(QualitySuitePlugin(
                name=name, implementation=f"{__name__}:Sleepy", config_model=SleepConfig,
                layer="silver", tables=("silver.t",), concurrent=concurrent))


def _audit(settings: Any, monkeypatch: pytest.MonkeyPatch, concurrent: dict[str, bool],
           **kwargs: Any) -> tuple[gate.GateReport, list[object]]:
    global _most_in_flight
    _events.clear()
    _most_in_flight = 0
    recorded: list[object] = []
    monkeypatch.setattr(gate.store, "record", lambda s, results, **kw: recorded.extend(results))
    host = build_plugin_manager(settings, autoload=False, plugins=[Suites(concurrent)])
    ctx = JobContext(kind="quality", name="gate.silver", settings=settings, host=host)
    with bind(run_id="run-42"):
        report = gate.audit(ctx, "silver", raise_on_failure=False, **kwargs)
    return report, recorded


def test_concurrent_suites_overlap_and_keep_their_order(cryptolake_settings: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    names = {f"s.{i}": True for i in range(6)}
    report, recorded = _audit(cryptolake_settings, monkeypatch, names,
                              config={"s.0": {"seconds": 0.3}}, threads=3)
    assert _most_in_flight > 1  # side by side
    assert _most_in_flight <= 3  # never more than the threads
    # s.0 sleeps longest and finishes last, but its result is still the first recorded
    assert _events[-1] == ("s.0", "end")
    assert [r.suite for r in report.results] == sorted(names)
    assert recorded == report.results
    # each suite's thread ran in a copy of the caller's logging context
    assert {r.result.message for r in report.results} == {"run-42"}


def test_suites_not_declared_concurrent_run_alone_first(cryptolake_settings: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    suites = {"a.pooled": True, "b.alone": False, "c.pooled": True, "d.alone": False}
    report, _ = _audit(cryptolake_settings, monkeypatch, suites, threads=4)
    # the two lone suites start and end before anything else starts, one after the other
    assert _events[:4] == [("b.alone", "start"), ("b.alone", "end"),
                           ("d.alone", "start"), ("d.alone", "end")]
    assert [r.suite for r in report.results] == list(suites)


def test_one_thread_runs_every_suite_alone(cryptolake_settings: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    report, _ = _audit(cryptolake_settings, monkeypatch, {f"s.{i}": True for i in range(4)},
                       threads=1)
    assert _most_in_flight == 1
    assert len(report.results) == 4


def test_a_concurrent_suite_that_breaks_fails_the_gate_and_the_others_still_run(
    cryptolake_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, _ = _audit(cryptolake_settings, monkeypatch, {f"s.{i}": True for i in range(4)},
                       config={"s.2": {"fail": True}}, threads=4)
    outcomes = [(r.suite, r.result.check, r.result.outcome) for r in report.results]
    assert outcomes == [("s.0", "ran", "pass"), ("s.1", "ran", "pass"),
                        ("s.2", "suite_error", "error"), ("s.3", "ran", "pass")]
    assert not report.passed
    assert "this suite breaks" in report.results[2].result.message
