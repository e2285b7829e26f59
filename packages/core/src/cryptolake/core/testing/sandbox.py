"""Run a plugin's source, transform or quality suite for real, offline, on a private lakehouse.

:class:`LakehouseSandbox` is an Iceberg catalog of its own — pyiceberg's ``SqlCatalog`` on a
SQLite file, the warehouse a local directory — with a private namespace per layer. Nothing of the
stack is needed (the ``lakehouse`` extra is: pyiceberg, pyarrow, SQLAlchemy). The pytest plugin
offers it as the ``lakehouse_sandbox`` fixture and :func:`run_entry` as ``run_entry``::

    def test_my_source_lands_rows(run_entry, lakehouse_sandbox):
        result = run_entry(my_plugin, "kraken.ticks", {"count": 3})
        assert result.rows_out == 3
        assert len(lakehouse_sandbox.read("bronze.kraken_ticks")) == 3

The job gets a :class:`~cryptolake.core.JobContext` whose ``catalog()`` is the sandbox's catalog and
whose ``namespace(layer)`` is the sandbox's namespace for that layer — exactly what it uses against
the real stack, so the code under test is the code that ships.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptolake.core.jobs import JobContext, run_job
from cryptolake.core.manager import PluginHost
from cryptolake.core.registry import QualitySuitePlugin, SourcePlugin, TransformPlugin
from cryptolake.core.results import CheckResult, JobResult
from cryptolake.core.tables import TableContract, ensure_table

LAYERS = ("bronze", "silver", "gold", "ml", "ops")


class LakehouseSandbox:
    """A private, offline Iceberg catalog with one namespace per layer."""

    def __init__(self, root: Path, *, prefix: str | None = None) -> None:
        from pyiceberg.catalog.sql import SqlCatalog

        root.mkdir(parents=True, exist_ok=True)
        (root / "warehouse").mkdir(exist_ok=True)
        self.root = root
        self.prefix = prefix or f"t{uuid.uuid4().hex[:8]}"
        self.namespaces = {layer: f"{self.prefix}_{layer}" for layer in LAYERS}
        self.catalog = SqlCatalog(
            "sandbox",
            uri=f"sqlite:///{root / 'catalog.db'}",
            warehouse=(root / "warehouse").as_uri(),
        )

    def identifier(self, table: str) -> str:
        """``"bronze.x"`` → ``"<prefix>_bronze.x"``."""
        layer, _, name = table.partition(".")
        return f"{self.namespaces.get(layer, layer)}.{name}"

    def ensure(self, contract: TableContract) -> Any:
        return ensure_table(self.catalog, contract, namespace=self.namespaces[contract.namespace])

    def write(self, contract: TableContract, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` to the sandbox's copy of ``contract`` (to seed a transform's input)."""
        import pyarrow as pa

        table = self.ensure(contract)
        table.append(pa.Table.from_pylist([dict(r) for r in rows], schema=contract.arrow_schema()))

    def read(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table`` (``"bronze.x"``), as dicts."""
        return list(self.catalog.load_table(self.identifier(table)).scan().to_arrow().to_pylist())

    def tables(self, layer: str) -> list[str]:
        """The tables the sandbox holds in ``layer`` (``["bronze.x", ...]``)."""
        try:
            found = self.catalog.list_tables(self.namespaces[layer])
        except Exception:  # the namespace was never created
            return []
        return sorted(f"{layer}.{ident[-1]}" for ident in found)


def context(
    host: PluginHost, sandbox: LakehouseSandbox, kind: str, name: str,
    params: Mapping[str, Any] | None = None,
) -> JobContext:
    """A job context on the sandbox: its catalog, its namespaces."""
    return JobContext(
        kind=kind, name=name, settings=host.settings, host=host, params=dict(params or {}),
        namespaces=dict(sandbox.namespaces), catalog_factory=lambda: sandbox.catalog,
    )


def run_entry(
    host: PluginHost,
    sandbox: LakehouseSandbox,
    name: str,
    config: Mapping[str, Any] | None = None,
    *,
    params: Mapping[str, Any] | None = None,
) -> JobResult | list[CheckResult]:
    """Run the source, transform or quality suite ``name`` of ``host`` against ``sandbox``, with
    the lifecycle hooks, as the pipeline would: a :class:`JobResult` (a suite: its results)."""
    entry: SourcePlugin | TransformPlugin | QualitySuitePlugin
    if name in host.sources:
        entry, kind = host.sources.get(name), "ingest"
    elif name in host.transforms:
        entry, kind = host.transforms.get(name), "transform"
    elif name in host.quality:
        entry, kind = host.quality.get(name), "quality"
    else:
        raise KeyError(f"no source, transform or quality suite named {name!r}")
    impl = entry.load()(entry.configure(dict(config or {})))
    ctx = context(host, sandbox, kind, name, params)
    if isinstance(entry, QualitySuitePlugin):
        results: list[CheckResult] = []

        def body(c: JobContext) -> JobResult:
            results.extend(impl.run(c))
            return JobResult(details={"checks": len(results)})

        run_job(ctx, body)
        return results
    run: Callable[[JobContext], JobResult] = impl.run
    return run_job(ctx, run)
