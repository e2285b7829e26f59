"""The functions behind ``cryptolake quality run [--layer …]`` and ``cryptolake quality report``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptolake.core import (
    ConfigError,
    JobContext,
    PluginHost,
    QualityGateFailed,
    Settings,
    build_plugin_manager,
    get_settings,
)
from cryptolake.core.jobs import Host
from cryptolake.processing.quality import results as store
from cryptolake.processing.quality.gate import GateReport, audit

LAYERS = ("bronze", "silver", "gold")


def quality_run(
    layers: Sequence[str] | str | None = None,
    *,
    namespace: str | None = None,
    suites: Sequence[str] | None = None,
    ops_namespace: str | None = None,
    settings: Settings | None = None,
    host: Host | PluginHost | None = None,
    threads: int | None = None,
) -> list[GateReport]:
    """Audit the published tables of ``layers`` (default: all gated layers that have suites).

    Records every result in ``ops.dq_results`` (failures in ``ops.alerts``); when any layer
    failed, fires the lifecycle hook for it and raises :class:`QualityGateFailed` after every
    layer was checked. ``namespace`` audits another namespace (e.g. a staging schema).
    """
    settings = settings or get_settings()
    host = host or build_plugin_manager(settings)
    explicit = layers is not None and layers != []
    wanted = [layers] if isinstance(layers, str) else list(layers or LAYERS)
    known = sorted({e.layer for e in host.quality})
    unknown = [layer for layer in wanted if layer not in known]
    if explicit and unknown:
        raise ConfigError(
            f"unknown layer(s) {', '.join(unknown)}; layers with quality suites: "
            f"{', '.join(known) or 'none'}"
        )
    if suites:
        names = {e.name for e in host.quality}
        missing = [s for s in suites if s not in names]
        if missing:
            raise ConfigError(
                f"unknown quality suite(s) {', '.join(missing)}; see `cryptolake plugins list` "
                f"(e.g. {', '.join(sorted(names)[:3])})"
            )
        in_layers = {e.name for layer in wanted for e in host.quality.for_layer(layer)}
        if not set(suites) & in_layers:
            raise ConfigError(
                f"suite(s) {', '.join(suites)} belong to none of the layers {', '.join(wanted)}"
            )
    reports: list[GateReport] = []
    failed: list[str] = []
    for layer in wanted:
        if not host.quality.for_layer(layer):
            continue
        if suites and not {e.name for e in host.quality.for_layer(layer)} & set(suites):
            continue
        ctx = JobContext(kind="quality", name=f"gate.{layer}", settings=settings, host=host)
        report = audit(ctx, layer, namespace=namespace, suites=suites,
                       ops_namespace=ops_namespace, raise_on_failure=False, threads=threads)
        reports.append(report)
        failed += report.failed_checks()
    if failed:
        error = QualityGateFailed(",".join(r.layer for r in reports if not r.passed), failed)
        error.reports = reports  # type: ignore[attr-defined]
        raise error
    return reports


def quality_report(
    *,
    layer: str | None = None,
    runs: int = 1,
    run_id: str | None = None,
    only_failed: bool = False,
    ops_namespace: str = "ops",
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``ops.dq_results`` for the latest ``runs`` gate runs (per ``layer``), newest first."""
    return store.report(
        settings or get_settings(), layer=layer, runs=runs, run_id=run_id,
        only_failed=only_failed, ops_namespace=ops_namespace,
    )
