"""The plugin author's path: the scaffold, the offline sandbox run, and removing a plugin's data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core import (
    CheckResult,
    Column,
    JobContext,
    JobResult,
    PluginManifest,
    QualitySuitePlugin,
    SourcePlugin,
    TableContract,
    ensure_table,
    hookimpl,
)
from cryptolake.core.cli._remove import execute_removal, plan_removal
from cryptolake.core.cli._scaffold import scaffold
from cryptolake.core.tables import get_contract

TICKS = TableContract("bronze", "kit_ticks", (Column("n", "long", required=True),), key=("n",))


class WriteTicks:
    def __init__(self, config: Any) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        import pyarrow as pa

        table = ensure_table(ctx.catalog(), TICKS, namespace=ctx.namespace("bronze"))
        table.append(pa.Table.from_pylist([{"n": 1}, {"n": 2}], schema=TICKS.arrow_schema()))
        snapshot = table.current_snapshot()
        assert snapshot is not None
        ctx.committed(TICKS.identifier, snapshot.snapshot_id, 2)
        return JobResult(rows_out=2)


class Gate:
    def __init__(self, config: Any) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> list[CheckResult]:
        return [CheckResult("rows > 0", TICKS.identifier, "pass", 2.0)]


class Kit:
    CRYPTOLAKE_PLUGIN = PluginManifest(name="kit", version="1")

    @hookimpl
    def cryptolake_register_tables(self, tables: Any) -> None:
        tables.add(TICKS)

    @hookimpl
    def cryptolake_register_sources(self, registry: Any) -> None:
        registry.add(SourcePlugin(name="kit.ticks", implementation=f"{__name__}:WriteTicks",
                                  capabilities=frozenset({"batch"}),
                                  bronze_tables=(TICKS.identifier,)))

    @hookimpl
    def cryptolake_register_quality_suites(self, registry: Any) -> None:
        registry.add(QualitySuitePlugin(name="kit.gate", implementation=f"{__name__}:Gate",
                                        layer="bronze", tables=(TICKS.identifier,)))


def test_run_entry_runs_a_source_for_real_on_a_private_namespace(
    run_entry: Any, lakehouse_sandbox: Any
) -> None:
    assert run_entry(Kit(), "kit.ticks").rows_out == 2
    assert sorted(r["n"] for r in lakehouse_sandbox.read("bronze.kit_ticks")) == [1, 2]
    assert lakehouse_sandbox.tables("bronze") == ["bronze.kit_ticks"]
    assert lakehouse_sandbox.namespaces["bronze"] != "bronze"  # private, never the real one
    assert [r.outcome for r in run_entry(Kit(), "kit.gate")] == ["pass"]


def test_removing_a_plugin_drops_its_tables_and_gate_history_only(
    make_plugin_host: Any, run_entry: Any, lakehouse_sandbox: Any
) -> None:
    run_entry(Kit(), "kit.ticks")
    results = get_contract("ops.dq_results")
    now = datetime.now(UTC)
    row = {c: None for c in results.column_names} | {
        "run_id": "r1", "layer": "bronze", "check_name": "c", "table_name": "t",
        "outcome": "pass", "checked_at": now}
    lakehouse_sandbox.write(results, [{**row, "suite": "kit.gate"}, {**row, "suite": "core.gate"}])
    lakehouse_sandbox.ensure(get_contract("bronze.rejects"))

    plan = plan_removal(make_plugin_host([Kit()]), "kit")
    assert plan.tables == ["bronze.kit_ticks"] and plan.suites == ["kit.gate"]
    done = execute_removal(plan, lakehouse_sandbox.catalog,
                           namespace=lambda layer: lakehouse_sandbox.namespaces[layer])
    assert done == {"dropped": ["bronze.kit_ticks"], "missing": [], "gate_rows_deleted": 1}
    assert lakehouse_sandbox.tables("bronze") == ["bronze.rejects"]  # the core's table stays
    assert [r["suite"] for r in lakehouse_sandbox.read("ops.dq_results")] == ["core.gate"]
    with pytest.raises(Exception, match="no installed plugin named 'nope'"):
        plan_removal(make_plugin_host([Kit()]), "nope")


def test_the_scaffold_writes_a_distribution_and_refuses_bad_input(tmp_path: Path) -> None:
    root = scaffold("kraken", "source", tmp_path)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "src/cryptolake_kraken/__init__.py",
                     "src/cryptolake_kraken/config.py", "src/cryptolake_kraken/plugin.py",
                     "src/cryptolake_kraken/source.py", "tests/test_plugin.py"]
    pyproject = (root / "pyproject.toml").read_text()
    assert 'kraken = "cryptolake_kraken.plugin"' in pyproject
    assert '"cryptolake-core[lakehouse]>=0.1,<1"' in pyproject and "==" not in pyproject
    for text in (root / "src" / "cryptolake_kraken").glob("*.py"):
        compile(text.read_text(), str(text), "exec")
    with pytest.raises(FileExistsError):
        scaffold("kraken", "source", tmp_path)
    with pytest.raises(ValueError, match="must be lower-case"):
        scaffold("Kraken!", "source", tmp_path)
    with pytest.raises(ValueError, match="not one of source, transform, quality, model"):
        scaffold("kraken2", "sink", tmp_path)
