"""Every hook specification of CryptoLake, grouped by family.

Hooks are named ``cryptolake_<verb>_<noun>``. Each docstring states the semantics (whether the call
stops at the first non-``None`` result) and the core API version that added it. The plugin author
guide (docs/plugins.md) documents every hook listed in :data:`ALL_SPECS`; a meta test keeps the two
in step.
"""

from __future__ import annotations

from cryptolake.core.hookspecs.api import ApiSpecs
from cryptolake.core.hookspecs.cli import CliSpecs
from cryptolake.core.hookspecs.lifecycle import LifecycleSpecs
from cryptolake.core.hookspecs.models import ModelSpecs
from cryptolake.core.hookspecs.quality import QualitySpecs
from cryptolake.core.hookspecs.sources import SourceSpecs
from cryptolake.core.hookspecs.tables import TableSpecs
from cryptolake.core.hookspecs.transforms import TransformSpecs

ALL_SPECS: tuple[type, ...] = (
    TableSpecs,
    SourceSpecs,
    TransformSpecs,
    QualitySpecs,
    ModelSpecs,
    LifecycleSpecs,
    CliSpecs,
    ApiSpecs,
)


def hook_names() -> list[str]:
    """The names of all declared hooks, sorted."""
    return sorted(
        name for spec in ALL_SPECS for name in vars(spec) if name.startswith("cryptolake_")
    )


__all__ = [
    "ALL_SPECS",
    "ApiSpecs",
    "CliSpecs",
    "LifecycleSpecs",
    "ModelSpecs",
    "QualitySpecs",
    "SourceSpecs",
    "TableSpecs",
    "TransformSpecs",
    "hook_names",
]
