"""What plugins register: manifests and one typed registry per family.

A plugin module (or object) carries a :class:`PluginManifest` in its ``CRYPTOLAKE_PLUGIN``
attribute and implements registration hooks that add *entries* — :class:`SourcePlugin`,
:class:`TransformPlugin`, :class:`QualitySuitePlugin`, :class:`ModelPlugin` — to the registry of
their family. An entry is cheap to build: its implementation is named as ``"module:attribute"``
and imported only when :meth:`Entry.load` is called.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel

from cryptolake.core.errors import PluginError

ENTRY_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class PluginManifest:
    """Who a plugin is and which core API versions it works with."""

    name: str
    version: str
    core_api: str = ">=0.1,<1"
    description: str = ""

    def supports(self, api_version: str) -> bool:
        try:
            return api_version in SpecifierSet(self.core_api)
        except InvalidSpecifier as exc:
            raise PluginError(self.name, f"invalid core_api range {self.core_api!r}: {exc}") from exc


class EmptyConfig(BaseModel):
    """The config model of an entry that takes no configuration."""


@dataclass(frozen=True, kw_only=True)
class Entry:
    """Common fields of everything a plugin registers."""

    family: ClassVar[str] = "entry"
    #: Capabilities every entry of a family may declare; anything else is refused.
    known_capabilities: ClassVar[frozenset[str]] = frozenset()

    name: str
    implementation: str
    config_model: type[BaseModel] = EmptyConfig
    capabilities: frozenset[str] = frozenset()
    description: str = ""
    #: Set by the registry to the name of the plugin that added the entry.
    plugin: str = ""

    def load(self) -> Any:
        """Import and return the implementation (``"package.module:attribute"``)."""
        module_name, _, attr = self.implementation.partition(":")
        try:
            module = importlib.import_module(module_name)
            return getattr(module, attr) if attr else module
        except (ImportError, AttributeError) as exc:
            raise PluginError(
                self.plugin or self.name,
                f"cannot import implementation {self.implementation!r} of "
                f"{self.family} {self.name!r}: {exc}",
            ) from exc

    def configure(self, raw: dict[str, Any] | None = None) -> BaseModel:
        """Validate ``raw`` against the entry's config model."""
        return self.config_model.model_validate(raw or {})

    def validate(self) -> None:
        if not ENTRY_NAME.match(self.name):
            raise PluginError(
                self.plugin or self.name,
                f"{self.family} name {self.name!r} must be dotted lower-case, e.g. 'binance.trades'",
            )
        if ":" not in self.implementation:
            raise PluginError(
                self.plugin or self.name,
                f"implementation {self.implementation!r} must read 'package.module:attribute'",
            )
        unknown = set(self.capabilities) - self.known_capabilities
        if unknown:
            raise PluginError(
                self.plugin or self.name,
                f"{self.family} {self.name!r} declares unknown capabilities {sorted(unknown)}; "
                f"known: {sorted(self.known_capabilities)}",
            )
        if not (isinstance(self.config_model, type) and issubclass(self.config_model, BaseModel)):
            raise PluginError(
                self.plugin or self.name, f"config_model of {self.name!r} must be a pydantic model"
            )


@dataclass(frozen=True, kw_only=True)
class SourcePlugin(Entry):
    """A source of market data. Its implementation follows :class:`cryptolake.core.jobs.Source`."""

    family: ClassVar[str] = "source"
    known_capabilities: ClassVar[frozenset[str]] = frozenset(
        {"batch", "stream", "replay", "backfill", "incremental"}
    )
    topics: tuple[str, ...] = ()
    bronze_tables: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TransformPlugin(Entry):
    """A job from input tables to output tables. Implementation: :class:`~cryptolake.core.jobs.Job`."""

    family: ClassVar[str] = "transform"
    known_capabilities: ClassVar[frozenset[str]] = frozenset(
        {"incremental", "idempotent", "streaming", "time_range"}
    )
    engine: Literal["spark", "trino", "dbt", "python"] = "python"
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    schedule: str = "daily"
    layer: str = ""


@dataclass(frozen=True, kw_only=True)
class QualitySuitePlugin(Entry):
    """A suite of checks gating one layer. Implementation: :class:`~cryptolake.core.jobs.QualitySuite`."""

    family: ClassVar[str] = "quality"
    known_capabilities: ClassVar[frozenset[str]] = frozenset({"soda", "sql", "python"})
    layer: str = ""
    tables: tuple[str, ...] = ()
    #: The suite may run in a thread beside the layer's other concurrent suites (it keeps no
    #: state shared across instances). A gate runs the others first, one at a time, alone.
    concurrent: bool = False


@dataclass(frozen=True, kw_only=True)
class ModelPlugin(Entry):
    """A forecasting estimator following the scikit-learn estimator rules."""

    family: ClassVar[str] = "model"
    known_capabilities: ClassVar[frozenset[str]] = frozenset(
        {"regression", "classification", "probabilistic", "sequence", "gpu"}
    )
    target: str = "return_1h"


E = TypeVar("E", bound=Entry)


@dataclass
class Registry(Generic[E]):
    """Entries of one family, by unique name. Validates what plugins add."""

    entry_type: type[E]
    _entries: dict[str, E] = field(default_factory=dict)
    #: Set by the plugin host while it calls one plugin's registration hook.
    current_plugin: str = ""

    def add(self, entry: E) -> E:
        if not isinstance(entry, self.entry_type):
            raise PluginError(
                self.current_plugin or "?",
                f"{self.entry_type.family} registry accepts {self.entry_type.__name__}, "
                f"got {type(entry).__name__}",
            )
        if self.current_plugin and not entry.plugin:
            object.__setattr__(entry, "plugin", self.current_plugin)
        entry.validate()
        if entry.name in self._entries:
            other = self._entries[entry.name].plugin
            raise PluginError(
                entry.plugin or "?",
                f"{entry.family} {entry.name!r} is already registered by plugin {other!r}",
            )
        self._entries[entry.name] = entry
        return entry

    def get(self, name: str) -> E:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise PluginError(
                name, f"no {self.entry_type.family} named {name!r} is registered (known: {known})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[E]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def discard(self, names: Iterable[str]) -> None:
        """Remove entries (used when the plugin that added them failed)."""
        for name in names:
            self._entries.pop(name, None)


class SourceRegistry(Registry[SourcePlugin]):
    def __init__(self) -> None:
        super().__init__(SourcePlugin)

    def topics(self) -> list[str]:
        """Every Kafka topic declared by a registered source."""
        return sorted({t for e in self for t in e.topics})


class TransformRegistry(Registry[TransformPlugin]):
    def __init__(self) -> None:
        super().__init__(TransformPlugin)


class QualityRegistry(Registry[QualitySuitePlugin]):
    def __init__(self) -> None:
        super().__init__(QualitySuitePlugin)

    def for_layer(self, layer: str) -> list[QualitySuitePlugin]:
        return [e for e in self if e.layer == layer]


class ModelRegistry(Registry[ModelPlugin]):
    def __init__(self) -> None:
        super().__init__(ModelPlugin)
