"""The Alternative.me Fear & Greed plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptolake.core import PluginManifest, SourcePlugin, hookimpl
from cryptolake.ingest import __version__
from cryptolake.ingest.feargreed import parse
from cryptolake.ingest.feargreed.config import FearGreedConfig

if TYPE_CHECKING:
    from cryptolake.core import SourceRegistry

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="feargreed",
    version=__version__,
    core_api=">=0.1,<1",
    description="Alternative.me Fear & Greed index into Bronze",
)


@hookimpl
def cryptolake_register_sources(registry: SourceRegistry) -> None:
    registry.add(
        SourcePlugin(
            name="feargreed.index",
            implementation="cryptolake.ingest.feargreed.jobs:FearGreed",
            config_model=FearGreedConfig,
            capabilities=frozenset({"batch", "incremental"}),
            bronze_tables=("bronze.fear_greed", "bronze.rejects"),
            description="/fng/: full history first, then incremental",
        )
    )


@hookimpl
def cryptolake_detect_layout(path: Path, head: bytes) -> str | None:
    return parse.detect(path, head)
