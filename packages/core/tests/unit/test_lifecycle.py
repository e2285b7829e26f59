from __future__ import annotations

from typing import Any

import pytest
from _plugins import make_plugin

from cryptolake.core import CheckResult, JobContext, JobResult, PluginManifest, hookimpl, run_job


class Recorder:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="recorder", version="1")

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def cryptolake_before_job(self, job: JobContext) -> None:
        self.calls.append(f"before:{job.name}")

    @hookimpl
    def cryptolake_after_job(self, job: JobContext, result: JobResult) -> None:
        self.calls.append(f"after:{job.name}:{result.rows_out}")

    @hookimpl
    def cryptolake_on_job_error(self, job: JobContext, error: BaseException) -> None:
        self.calls.append(f"error:{job.name}:{error}")

    @hookimpl
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        self.calls.append(f"committed:{table}:{snapshot_id}:{rows}:{source}")

    @hookimpl
    def cryptolake_quality_gate_failed(self, layer: str, results: Any) -> None:
        self.calls.append(f"gate:{layer}:{[r.check for r in results if r.failed]}")

    @hookimpl
    def cryptolake_model_promoted(self, model: str, version: str, metrics: dict[str, float]) -> None:
        self.calls.append(f"promoted:{model}:{version}:{metrics['mae']}")


def _ctx(host: Any, name: str = "demo.ticks") -> JobContext:
    return JobContext(kind="ingest", name=name, settings=host.settings, host=host)


def test_run_job_fires_before_and_after(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec, make_plugin("demo")])
    entry = host.sources.get("demo.ticks")
    job = entry.load()(entry.configure({"rows": 5}))

    def body(ctx: JobContext) -> JobResult:
        ctx.committed("bronze.demo", 42, 5)
        return job.run(ctx)

    result = run_job(_ctx(host), body)
    assert result.rows_out == 5 and result.duration_s >= 0
    assert rec.calls == [
        "before:demo.ticks",
        "committed:bronze.demo:42:5:demo.ticks",
        "after:demo.ticks:5",
    ]


def test_run_job_reports_errors_and_reraises(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])

    def body(ctx: JobContext) -> JobResult:
        raise ValueError("bad row 7")

    with pytest.raises(ValueError, match="bad row 7"):
        run_job(_ctx(host), body)
    assert rec.calls == ["before:demo.ticks", "error:demo.ticks:bad row 7"]


def test_gate_and_promotion_hooks(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    results = [
        CheckResult("row_count > 0", "silver.trades", "pass", 10),
        CheckResult("duplicate_count(symbol, agg_trade_id) = 0", "silver.trades", "fail", 3),
    ]
    host.quality_gate_failed(layer="silver", results=results)
    host.model_promoted(model="gbm", version="3", metrics={"mae": 0.5})
    assert rec.calls == [
        "gate:silver:['duplicate_count(symbol, agg_trade_id) = 0']",
        "promoted:gbm:3:0.5",
    ]


class Grumpy:
    """A third-party plugin whose every lifecycle hook raises."""

    CRYPTOLAKE_PLUGIN = PluginManifest(name="grumpy", version="1")

    @hookimpl
    def cryptolake_before_job(self, job: JobContext) -> None:
        raise RuntimeError("grumpy before")

    @hookimpl
    def cryptolake_after_job(self, job: JobContext, result: JobResult) -> None:
        raise RuntimeError("grumpy after")

    @hookimpl
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        raise RuntimeError("grumpy committed")

    @hookimpl
    def cryptolake_on_job_error(self, job: JobContext, error: BaseException) -> None:
        raise RuntimeError("grumpy error")

    @hookimpl
    def cryptolake_quality_gate_failed(self, layer: str, results: Any) -> None:
        raise RuntimeError("grumpy gate")

    @hookimpl
    def cryptolake_model_promoted(self, model: str, version: str, metrics: Any) -> None:
        raise RuntimeError("grumpy promoted")


@pytest.mark.parametrize("strict", [False, True])
def test_a_raising_lifecycle_hook_is_logged_and_the_job_still_succeeds(
    make_plugin_host: Any, caplog: pytest.LogCaptureFixture, strict: bool
) -> None:
    """Every lifecycle hook — ``batch_committed`` from ``ctx.committed`` included — is isolated:
    the raising plugin is logged by name, the other plugins still hear of the event, and the
    commit and the job stand. Strict mode (for load errors) does not change that."""
    rec = Recorder()
    host = make_plugin_host([rec, Grumpy()], strict=strict)

    def body(ctx: JobContext) -> JobResult:
        ctx.committed("bronze.demo", 42, 5)
        return JobResult(rows_out=5)

    assert run_job(_ctx(host), body).rows_out == 5
    host.quality_gate_failed(layer="silver", results=[])
    host.model_promoted(model="gbm", version="3", metrics={"mae": 0.5})
    assert rec.calls == [
        "before:demo.ticks",
        "committed:bronze.demo:42:5:demo.ticks",
        "after:demo.ticks:5",
        "gate:silver:[]",
        "promoted:gbm:3:0.5",
    ]
    for hook in ("before_job", "batch_committed", "after_job", "quality_gate_failed",
                 "model_promoted"):
        assert f"plugin grumpy failed in cryptolake_{hook}" in caplog.text

    def failing(ctx: JobContext) -> JobResult:
        raise ValueError("bad row 7")

    with pytest.raises(ValueError, match="bad row 7"):  # the job's own error, not the plugin's
        run_job(_ctx(host), failing)
    assert "plugin grumpy failed in cryptolake_on_job_error" in caplog.text
