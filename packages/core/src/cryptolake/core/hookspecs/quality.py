"""Hook specs of the quality family: checks that gate the publication of a layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.registry import QualityRegistry


class QualitySpecs:
    @hookspec
    def cryptolake_register_quality_suites(self, registry: QualityRegistry) -> None:
        """Add quality suites with ``registry.add(QualitySuitePlugin(...))``.

        Called once per plugin host, for every plugin; all results are ignored. A suite names the
        layer it gates (``bronze``, ``silver``, ``gold``) and the tables it checks; a layer is
        published only when every suite registered for it passes.

        .. versionadded:: 0.1
        """
