"""Quality gates as pipeline steps: the transform ``gate.<layer>`` audits the layer's tables.

The pipeline runs ``gate.silver`` after the Silver transforms. Gold is gated inside ``dbt.gold``
(write-audit-publish), so it needs no separate step.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from cryptolake.core import JobContext, JobResult
from cryptolake.processing.quality.api import quality_run


class GateConfig(BaseModel):
    layer: str = Field("silver", description="the layer whose suites are run")
    namespace: str | None = Field(None, description="audit this namespace instead of the layer's")


class LayerGate:
    """Run every suite of the layer; :class:`QualityGateFailed` when one check fails."""

    def __init__(self, config: GateConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        reports = quality_run(
            self.config.layer, namespace=self.config.namespace, settings=ctx.settings, host=ctx.host
        )
        checks = sum(len(r.results) for r in reports)
        return JobResult(
            rows_in=checks,
            details={"gate": "pass", "checks": checks, "runs": [r.run_id for r in reports]},
        )
