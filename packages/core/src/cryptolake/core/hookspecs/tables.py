"""Hook specs of table contracts: plugins declare the Iceberg tables they write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.tables import TableRegistry


class TableSpecs:
    @hookspec
    def cryptolake_register_tables(self, tables: TableRegistry) -> None:
        """Declare the tables your plugin writes with ``tables.add(TableContract(...))``.

        Called once per plugin host, for every plugin, before any family registry is built; all
        results are ignored. ``host.tables`` then holds the core's tables (``bronze.*``,
        ``silver.*``, ``ops.*``) and every plugin's. A plugin may declare tables in ``bronze``,
        ``silver``, ``gold`` and ``ml``; declaring an identifier that is already declared with a
        different contract is an error, and the plugin is not loaded. A source's
        ``bronze_tables`` and a transform's ``outputs`` must name declared tables (the conformance
        classes check it). A declared table joins no quality gate by itself: register a quality
        suite for it.

        .. versionadded:: 0.2
        """
