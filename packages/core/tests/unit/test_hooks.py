"""One test per hook (datasette's rule, enforced by test_meta.py): each implements the hook in a
plugin, calls it through the host's typed method (``manager.HOOK_CALLERS``), and asserts the
implementation ran with the arguments the spec promises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from cryptolake.core import (
    CheckResult,
    Column,
    CommandRegistry,
    JobContext,
    JobResult,
    ModelPlugin,
    ModelRegistry,
    PluginManifest,
    QualityRegistry,
    QualitySuitePlugin,
    SourcePlugin,
    SourceRegistry,
    TableContract,
    TableRegistry,
    TransformPlugin,
    TransformRegistry,
    hookimpl,
)

MANIFEST = PluginManifest(name="hooked", version="1")


def _ctx(host: Any) -> JobContext:
    return JobContext(kind="ingest", name="hooked.job", settings=host.settings, host=host)


def test_hook_cryptolake_register_tables(make_plugin_host: Any) -> None:
    contract = TableContract("bronze", "hooked", (Column("id", "long"),))

    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_tables(self, tables: TableRegistry) -> None:
            tables.add(contract)

    assert make_plugin_host([P()]).tables.get("bronze.hooked") is contract


def test_hook_cryptolake_register_sources(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_sources(self, registry: SourceRegistry) -> None:
            registry.add(SourcePlugin(name="hooked.src", implementation="m:C", topics=("t.x",)))

    sources = make_plugin_host([P()]).sources
    assert sources.get("hooked.src").plugin == "hooked" and sources.topics() == ["t.x"]


def test_hook_cryptolake_register_transforms(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_transforms(self, registry: TransformRegistry) -> None:
            registry.add(TransformPlugin(name="hooked.t", implementation="m:C",
                                         outputs=("silver.x",)))

    assert make_plugin_host([P()]).transforms.get("hooked.t").outputs == ("silver.x",)


def test_hook_cryptolake_register_quality_suites(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_quality_suites(self, registry: QualityRegistry) -> None:
            registry.add(QualitySuitePlugin(name="hooked.q", implementation="m:C", layer="silver",
                                            tables=("silver.x",)))

    assert [e.name for e in make_plugin_host([P()]).quality.for_layer("silver")] == ["hooked.q"]


def test_hook_cryptolake_register_models(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_models(self, registry: ModelRegistry) -> None:
            registry.add(ModelPlugin(name="hooked.m", implementation="m:C", target="return_1d"))

    assert make_plugin_host([P()]).models.get("hooked.m").target == "return_1d"


def test_hook_cryptolake_register_commands(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_commands(self, commands: CommandRegistry) -> None:
            commands.group("hooked", help="Hooked.").command("ping")(lambda: typer.echo("pong"))

    root = typer.Typer()
    make_plugin_host([P()]).register_commands(CommandRegistry(root))
    assert CliRunner().invoke(root, ["hooked", "ping"]).stdout == "pong\n"


def test_hook_cryptolake_detect_layout(make_plugin_host: Any) -> None:
    seen: list[tuple[Path, bytes]] = []

    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_detect_layout(self, path: Path, head: bytes) -> str | None:
            seen.append((path, head))
            return "hooked_csv" if head.startswith(b"id,") else None

    host = make_plugin_host([P()])
    assert host.detect_layout(path=Path("a.csv"), head=b"id,x\n") == "hooked_csv"
    assert host.detect_layout(path=Path("b.bin"), head=b"\x00") is None
    assert seen == [(Path("a.csv"), b"id,x\n"), (Path("b.bin"), b"\x00")]


def test_hook_cryptolake_select_champion(make_plugin_host: Any) -> None:
    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_select_champion(
            self, target: str, candidates: Sequence[Mapping[str, object]]
        ) -> str | None:
            return str(min(candidates, key=lambda c: float(c["mae"]))["name"])  # type: ignore[arg-type]

    cands = [{"name": "gbm", "mae": 2.0}, {"name": "rf", "mae": 1.5}]
    assert make_plugin_host([P()]).select_champion(target="return_1h", candidates=cands) == "rf"


class Recorder:
    CRYPTOLAKE_PLUGIN = MANIFEST

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def cryptolake_before_job(self, job: JobContext) -> None:
        self.calls.append(("before", job.name))

    @hookimpl
    def cryptolake_after_job(self, job: JobContext, result: JobResult) -> None:
        self.calls.append(("after", result.rows_out))

    @hookimpl
    def cryptolake_on_job_error(self, job: JobContext, error: BaseException) -> None:
        self.calls.append(("error", str(error)))

    @hookimpl
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        self.calls.append(("committed", (table, snapshot_id, rows, source)))

    @hookimpl
    def cryptolake_quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None:
        self.calls.append(("gate", (layer, [r.check for r in results])))

    @hookimpl
    def cryptolake_model_promoted(self, model: str, version: str, metrics: dict[str, float]) -> None:
        self.calls.append(("promoted", (model, version, metrics)))


def test_hook_cryptolake_before_job(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.before_job(job=_ctx(host))
    assert rec.calls == [("before", "hooked.job")]


def test_hook_cryptolake_after_job(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.after_job(job=_ctx(host), result=JobResult(rows_out=3))
    assert rec.calls == [("after", 3)]


def test_hook_cryptolake_on_job_error(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.on_job_error(job=_ctx(host), error=ValueError("row 7"))
    assert rec.calls == [("error", "row 7")]


def test_hook_cryptolake_batch_committed(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.batch_committed(table="bronze.x", snapshot_id=9, rows=4, source="hooked.job")
    _ctx(host).committed("bronze.y", None, 0)  # what a job calls
    assert rec.calls == [("committed", ("bronze.x", 9, 4, "hooked.job")),
                         ("committed", ("bronze.y", None, 0, "hooked.job"))]


def test_hook_cryptolake_quality_gate_failed(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.quality_gate_failed(layer="silver", results=[CheckResult("c", "silver.x", "fail")])
    assert rec.calls == [("gate", ("silver", ["c"]))]


def test_hook_cryptolake_model_promoted(make_plugin_host: Any) -> None:
    rec = Recorder()
    host = make_plugin_host([rec])
    host.model_promoted(model="gbm", version="3", metrics={"mae": 0.5})
    assert rec.calls == [("promoted", ("gbm", "3", {"mae": 0.5}))]


def test_hook_cryptolake_register_api_fields(make_plugin_host: Any) -> None:
    class Fields:
        def __init__(self) -> None:
            self.current_plugin = ""
            self.added: dict[str, tuple[str, str]] = {}

        def add_table(self, name: str, *, table: str, **_: Any) -> None:
            self.added[name] = (table, self.current_plugin)

        def discard_plugin(self, plugin: str) -> None:
            self.added = {k: v for k, v in self.added.items() if v[1] != plugin}

    class P:
        CRYPTOLAKE_PLUGIN = MANIFEST

        @hookimpl
        def cryptolake_register_api_fields(self, registry: Any) -> None:
            registry.add_table("hookedTicks", table="silver.hooked", type_name="HookedTick",
                               columns={"id": "Int"})

    class Broken:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="broken", version="1")

        @hookimpl
        def cryptolake_register_api_fields(self, registry: Any) -> None:
            registry.add_table("half", table="silver.half", type_name="Half", columns={})
            raise RuntimeError("half-way")

    fields = Fields()
    make_plugin_host([P(), Broken()]).register_api_fields(fields)
    assert fields.added == {"hookedTicks": ("silver.hooked", "hooked")}
    assert fields.current_plugin == ""
