"""Quality gates: a layer is published only when every suite registered for it passes.

Write-audit-publish:

1. **write** the new state somewhere readers do not look — a staging schema (Gold: dbt writes
   into ``gold_audit``) or an Iceberg branch (Spark's ``spark.wap.branch``);
2. **audit** it: :func:`audit` runs every quality suite of the layer against that namespace and
   records each result in ``ops.dq_results`` and each failure in ``ops.alerts``;
3. **publish** it only when the audit passed. When it failed, the published tables are left as
   they were, ``cryptolake_quality_gate_failed`` is fired through the plugin host and
   :class:`~cryptolake.core.QualityGateFailed` is raised.

:func:`write_audit_publish` strings the three steps together for any writer and publisher.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from cryptolake.core import CheckResult, JobContext, QualityGateFailed
from cryptolake.processing.quality import results as store

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Suites a gate runs at once (those whose entry declares ``concurrent``): their checks are
#: small Trino queries, each waiting mostly on the coordinator, so a few in flight overlap.
SUITE_THREADS = 4


@dataclass
class GateReport:
    """What one gate run found."""

    run_id: str
    layer: str
    namespace: str
    results: list[store.RecordedResult] = field(default_factory=list)

    @property
    def failed(self) -> list[store.RecordedResult]:
        return [r for r in self.results if r.result.failed]

    @property
    def passed(self) -> bool:
        return not self.failed

    def failed_checks(self) -> list[str]:
        return [f"{r.result.table}:{r.result.check}" for r in self.failed]

    def outcome_of(self, table: str, check: str) -> str | None:
        for r in self.results:
            if r.result.table == table and r.result.check == check:
                return r.result.outcome
        return None


def _suite_context(
    ctx: JobContext, suite: str, namespace: str, ops_namespace: str | None = None
) -> JobContext:
    return JobContext(
        kind="quality",
        name=suite,
        settings=ctx.settings,
        host=ctx.host,
        run_id=ctx.run_id,
        start=ctx.start,
        end=ctx.end,
        params={**ctx.params, "namespace": namespace, **({"ops_namespace": ops_namespace} if ops_namespace else {})},
        progress=ctx.progress,
    )


def _run_suite(ctx: JobContext, entry: Any, namespace: str, config: dict[str, Any] | None,
               ops_namespace: str | None) -> tuple[list[CheckResult], datetime]:
    """One suite's checks (a suite that cannot run gives one ``suite_error``) and when."""
    try:
        impl = entry.load()(entry.configure((config or {}).get(entry.name)))
        checks = list(impl.run(_suite_context(ctx, entry.name, namespace, ops_namespace)))
    except Exception as exc:  # a broken suite fails the gate, it does not pass it
        log.exception("quality suite %s failed to run", entry.name)
        table = entry.tables[0] if entry.tables else entry.name
        checks = [CheckResult("suite_error", table, "error", message=f"{type(exc).__name__}: {exc}")]
    return checks, store.now()


def _run_suites(ctx: JobContext, layer: str, entries: Sequence[Any], namespace: str,
                config: dict[str, Any] | None, ops_namespace: str | None, *, threads: int
                ) -> list[tuple[list[CheckResult], datetime]]:
    """Every entry's (checks, checked_at), in entry order: the suites not declared
    ``concurrent`` one at a time first, then the concurrent ones ``threads`` at a time (each in
    a copy of this context, so its log records keep the run id)."""
    out: dict[int, tuple[list[CheckResult], datetime]] = {}
    pooled = [i for i, e in enumerate(entries) if threads > 1 and getattr(e, "concurrent", False)]
    alone = [i for i in range(len(entries)) if i not in pooled]

    def done(i: int, found: tuple[list[CheckResult], datetime]) -> None:
        out[i] = found
        ctx.report(len(out), len(entries), f"{layer}: {entries[i].name}")

    ctx.report(0, len(entries), f"{layer}: {len(entries)} suite(s)")
    for i in alone:
        done(i, _run_suite(ctx, entries[i], namespace, config, ops_namespace))
    if pooled:
        with ThreadPoolExecutor(max_workers=min(threads, len(pooled)),
                                thread_name_prefix=f"gate-{layer}") as pool:
            futures = {
                pool.submit(contextvars.copy_context().run, _run_suite, ctx, entries[i],
                            namespace, config, ops_namespace): i
                for i in pooled
            }
            for future in as_completed(futures):  # progress from this thread only
                done(futures[future], future.result())
    return [out[i] for i in range(len(entries))]


def audit(
    ctx: JobContext,
    layer: str,
    *,
    namespace: str | None = None,
    suites: Sequence[str] | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    extra: Iterable[tuple[str, CheckResult]] = (),
    ops_namespace: str | None = None,
    raise_on_failure: bool = True,
    threads: int | None = None,
) -> GateReport:
    """Run the quality suites of ``layer`` against ``namespace`` (default: the layer itself).

    ``suites`` restricts the run to those suite names; ``config`` holds per-suite config overrides
    (suite name → dict); ``extra`` adds results computed elsewhere (e.g. dbt tests) as
    ``(suite, result)`` pairs. Every result is recorded; on failure the lifecycle hook fires and
    :class:`QualityGateFailed` is raised (unless ``raise_on_failure`` is false).

    Suites whose entry declares ``concurrent`` run ``threads`` at a time (default
    :data:`SUITE_THREADS`; 1: one after the other), after the others have run one by one; the
    results are recorded in entry order either way.
    """
    namespace = namespace or layer
    entries = [
        e for e in ctx.host.quality.for_layer(layer) if suites is None or e.name in suites
    ]
    report = GateReport(run_id=ctx.run_id, layer=layer, namespace=namespace)
    for suite_name, result in extra:
        report.results.append(store.RecordedResult(ctx.run_id, layer, suite_name, result, store.now()))
    found = _run_suites(ctx, layer, entries, namespace, config, ops_namespace,
                        threads=SUITE_THREADS if threads is None else threads)
    for entry, (checks, checked_at) in zip(entries, found, strict=True):  # in entry order
        report.results.extend(
            store.RecordedResult(ctx.run_id, layer, entry.name, r, checked_at) for r in checks
        )
    ctx.report(len(entries), len(entries), f"{layer}: done")
    if not any(r.result.check != "exists" for r in report.results):
        # nothing was checked (no suite, or every table missing): that is not a pass
        report.results.append(
            store.RecordedResult(
                ctx.run_id, layer, f"gate.{layer}",
                CheckResult(
                    "no_checks", f"{layer}.*", "fail",
                    message=f"the {layer} gate on {namespace} ran no check "
                    f"({len(entries)} suite(s){', every table missing' if entries else ''})",
                ),
                store.now(),
            )
        )
    store.record(ctx.settings, report.results, ops_namespace=ops_namespace)
    outcome = "passed" if report.passed else "FAILED"
    log.info(
        "%s gate on %s %s: %d checks, %d failed%s",
        layer, namespace, outcome, len(report.results), len(report.failed),
        f" ({', '.join(report.failed_checks()[:10])})" if report.failed else "",
    )
    if not report.passed:
        ctx.host.quality_gate_failed(layer=layer, results=[r.result for r in report.results])
        if raise_on_failure:
            raise QualityGateFailed(layer, report.failed_checks())
    return report


def write_audit_publish(
    ctx: JobContext,
    layer: str,
    *,
    write: Callable[[str], Any],
    publish: Callable[[], T],
    audit_namespace: str,
    extra_results: Callable[[Any], Iterable[tuple[str, CheckResult]]] | None = None,
    **audit_kwargs: Any,
) -> tuple[GateReport, T]:
    """``write(audit_namespace)``, audit that namespace, then ``publish()`` if the gate passed.

    Returns the gate report and what ``publish`` returned; raises
    :class:`QualityGateFailed` (after recording and notifying) without publishing otherwise.
    """
    written = write(audit_namespace)
    extra = list(extra_results(written)) if extra_results else []
    report = audit(ctx, layer, namespace=audit_namespace, extra=extra, **audit_kwargs)
    published = publish()
    log.info("%s published from %s", layer, audit_namespace)
    return report, published
