"""A plugin that declares a core API range the current core does not offer."""

from __future__ import annotations

from typing import Any

from cryptolake.core import PluginManifest, SourcePlugin, hookimpl

CRYPTOLAKE_PLUGIN = PluginManifest(name="futuristic", version="9.0.0", core_api=">=9,<10")


@hookimpl
def cryptolake_register_sources(registry: Any) -> None:
    registry.add(
        SourcePlugin(name="futuristic.feed", implementation="x:y", capabilities=frozenset({"batch"}))
    )
