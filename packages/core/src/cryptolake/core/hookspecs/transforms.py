"""Hook specs of the transform family: jobs that turn one layer into the next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.registry import TransformRegistry


class TransformSpecs:
    @hookspec
    def cryptolake_register_transforms(self, registry: TransformRegistry) -> None:
        """Add transforms with ``registry.add(TransformPlugin(...))``.

        Called once per plugin host, for every plugin; all results are ignored. A transform declares
        its input and output tables, its engine (``spark``, ``trino``, ``dbt``, ``python``) and a
        schedule hint; ``cryptolake transform list`` shows them and ``cryptolake transform run NAME``
        runs any of them.

        .. versionadded:: 0.1
        """
