"""Quality gates as pipeline steps: the transform ``gate.<layer>`` audits the layer's tables.

The pipeline runs ``gate.silver`` after the Silver transforms. When every check passes, the gate
**publishes** Silver: one row of ``ops.publications`` pins the current snapshot of every Silver
table, and Gold (``dbt.gold``) reads Silver at those snapshots. A failed gate publishes nothing,
so Gold and every other reader of the publication keep seeing the previous Silver state, and it
puts the Silver tables themselves — written in place, so they are the audit area — back at the
published snapshots, with the incremental watermarks the publication recorded: the next run
recomputes what the failed run wrote. Gold is gated inside ``dbt.gold`` (write-audit-publish), so
it needs no separate step.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from cryptolake.core import JobContext, JobResult
from cryptolake.processing.quality.api import quality_run

log = logging.getLogger(__name__)


class GateConfig(BaseModel):
    layer: str = Field("silver", description="the layer whose suites are run")
    namespace: str | None = Field(None, description="audit this namespace instead of the layer's")
    ops_namespace: str | None = Field(None, description="namespace of dq_results, alerts, publications")
    publish: bool = Field(True, description="publish the layer (ops.publications) when it passes")
    suite_threads: int = Field(
        4, ge=1, description="suites declared concurrent run this many at a time (1: in turn)"
    )


class LayerGate:
    """Run every suite of the layer; :class:`QualityGateFailed` when one check fails, else
    publish the layer's current snapshots."""

    def __init__(self, config: GateConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.core import QualityGateFailed
        from cryptolake.core.pipeline import (
            current_properties,
            current_snapshots,
            publish_layer,
            restore_published,
        )

        cfg = self.config
        namespace = ctx.params.get("namespace", cfg.namespace) or cfg.layer
        ops_ns = ctx.params.get("ops_namespace", cfg.ops_namespace)
        # the snapshots audited: taken before the checks, so a write landing meanwhile is not
        # published unaudited; the watermarks with them, so a rollback can restore both
        audited = current_snapshots(ctx.settings, namespace)
        properties = current_properties(ctx.settings, namespace)
        try:
            reports = quality_run(
                cfg.layer, namespace=namespace, settings=ctx.settings, host=ctx.host,
                ops_namespace=ops_ns, threads=cfg.suite_threads,
            )
        except QualityGateFailed:
            if cfg.publish:
                # write-audit-publish for a layer written in place: the failed write is undone,
                # the tables and their watermarks are back at the last publication
                for r in restore_published(ctx.settings, cfg.layer, namespace,
                                           ops_namespace=ops_ns):
                    if r.action != "unchanged":
                        log.warning("%s.%s %s: snapshot %s -> %s", namespace, r.table, r.action,
                                    r.from_snapshot, r.to_snapshot)
            raise
        checks = sum(len(r.results) for r in reports)
        result = JobResult(
            rows_in=checks,
            details={"gate": "pass", "checks": checks, "runs": [r.run_id for r in reports]},
        )
        if cfg.publish and audited:
            pub = publish_layer(ctx.settings, cfg.layer, namespace, audited, run_id=ctx.run_id,
                                ops_namespace=ops_ns, inputs={"properties": properties})
            result.details["publication"] = pub.publication_id
            result.snapshot_ids = {f"{namespace}.{t}": s for t, s in audited.items()}
            log.info("%s published: %s", cfg.layer, pub.tables)
        return result
