"""Hook specs of the source family: where data enters the lakehouse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.registry import SourceRegistry


class SourceSpecs:
    @hookspec
    def cryptolake_register_sources(self, registry: SourceRegistry) -> None:
        """Add sources with ``registry.add(SourcePlugin(...))``.

        Called once per plugin host, for every plugin; all results are ignored. A source declares
        the Kafka topics it produces to and the Bronze tables it writes, so that
        ``cryptolake stack up`` creates the topics and ``cryptolake ingest run NAME`` finds it.

        .. versionadded:: 0.1
        """

    @hookspec(firstresult=True)
    def cryptolake_detect_layout(self, path: Path, head: bytes) -> str | None:
        """Name the layout of a recorded data file, or return ``None`` if it is not yours.

        ``head`` holds the first 4 KiB of the file. The replay source asks every plugin in turn and
        **stops at the first non-None result**, so a third party can teach replay a new layout.
        The name returned must be one a registered source can parse.

        .. versionadded:: 0.1
        """
