"""The plugin host: discovers, validates and calls plugins. No global instance.

:func:`build_plugin_manager` returns a :class:`PluginHost`; the CLI, the API, the workers and the
tests each build their own. Plugins come from the ``cryptolake`` entry-point group — the built-in
ones exactly like third-party ones — and from the ``plugins`` argument.

Validation on load: the object must carry a :class:`~cryptolake.core.registry.PluginManifest` in
``CRYPTOLAKE_PLUGIN``, its name must be unique, its ``core_api`` range must include
:data:`~cryptolake.core._version.CORE_API_VERSION`, and every ``cryptolake_*`` hook it implements
must match a spec (``check_pending``). A plugin that fails is recorded with the reason and skipped
— unless strict mode is on, when the error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal, TypeVar

import pluggy

from cryptolake.core._version import CORE_API_VERSION
from cryptolake.core.errors import PluginError
from cryptolake.core.hookspecs import ALL_SPECS
from cryptolake.core.markers import PROJECT_NAME
from cryptolake.core.registry import (
    ModelRegistry,
    PluginManifest,
    QualityRegistry,
    Registry,
    SourceRegistry,
    TransformRegistry,
)
from cryptolake.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cryptolake"
MANIFEST_ATTR = "CRYPTOLAKE_PLUGIN"

Status = Literal["enabled", "blocked", "error"]
R = TypeVar("R", bound=Registry[Any])


@dataclass
class LoadedPlugin:
    """One plugin as the host sees it, loaded or not."""

    name: str
    distribution: str | None
    version: str | None
    status: Status
    error: str | None = None
    families: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "families": self.families,
            "entries": self.entries,
            "error": self.error,
        }


class PluginHost:
    """A pluggy manager plus the typed registries built from it."""

    def __init__(self, settings: Settings, *, strict: bool) -> None:
        self.settings = settings
        self.strict = strict
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        for spec in ALL_SPECS:
            self.pm.add_hookspecs(spec)
        self.plugins: dict[str, LoadedPlugin] = {}
        self._registries: dict[str, Registry[Any]] = {}

    # -- loading -----------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def _fail(self, record: LoadedPlugin, exc: PluginError) -> None:
        record.status = "error"
        record.error = exc.reason
        self.plugins[record.name] = record
        if self.strict:
            raise exc
        log.warning("plugin not loaded: %s", exc)

    def register(
        self,
        plugin: object,
        *,
        distribution: str | None = None,
        expected_name: str | None = None,
    ) -> LoadedPlugin | None:
        """Validate and register one plugin object; returns its record (``None`` if blocked)."""
        manifest = getattr(plugin, MANIFEST_ATTR, None)
        label = str(expected_name or getattr(plugin, "__name__", None) or repr(plugin))
        if not isinstance(manifest, PluginManifest):
            self._fail(
                LoadedPlugin(label, distribution, None, "error"),
                PluginError(
                    label,
                    f"has no {MANIFEST_ATTR} = PluginManifest(...) attribute",
                    distribution=distribution,
                ),
            )
            return None
        record = LoadedPlugin(manifest.name, distribution, manifest.version, "enabled")
        if manifest.name in self.settings.plugins.disabled:
            record.status = "blocked"
            self.plugins[manifest.name] = record
            self.pm.set_blocked(manifest.name)
            return record
        if manifest.name in self.plugins and self.plugins[manifest.name].status == "enabled":
            other = self.plugins[manifest.name].distribution
            self._fail(
                LoadedPlugin(manifest.name, distribution, manifest.version, "error"),
                PluginError(
                    manifest.name,
                    f"plugin name already taken by distribution {other}",
                    distribution=distribution,
                ),
            )
            return None
        try:
            if not manifest.supports(CORE_API_VERSION):
                raise PluginError(
                    manifest.name,
                    f"supports core API {manifest.core_api!r} but this core offers "
                    f"{CORE_API_VERSION}; upgrade the plugin or pin a compatible cryptolake-core",
                    distribution=distribution,
                )
            try:
                self.pm.register(plugin, name=manifest.name)
                self.pm.check_pending()
            except pluggy.PluginValidationError as exc:
                if self.pm.is_registered(plugin):
                    self.pm.unregister(plugin)
                raise PluginError(manifest.name, str(exc), distribution=distribution) from exc
        except PluginError as exc:
            exc.distribution = distribution
            self._fail(record, exc)
            return None
        self.plugins[manifest.name] = record
        return record

    def load_entry_points(self) -> None:
        """Register every plugin of the ``cryptolake`` entry-point group."""
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else None
            if ep.name in self.settings.plugins.disabled:
                version = ep.dist.version if ep.dist is not None else None
                self.plugins[ep.name] = LoadedPlugin(ep.name, dist, version, "blocked")
                self.pm.set_blocked(ep.name)
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must not take the host down
                self._fail(
                    LoadedPlugin(ep.name, dist, None, "error"),
                    PluginError(
                        ep.name, f"import failed: {type(exc).__name__}: {exc}", distribution=dist
                    ),
                )
                continue
            self.register(plugin, distribution=dist, expected_name=ep.name)

    # -- registries --------------------------------------------------------------------------

    def _build(self, hook_name: str, registry: R) -> R:
        caller = getattr(self.pm.hook, hook_name)
        # registration order: the first plugin to claim an entry name keeps it
        for impl in caller.get_hookimpls():
            registry.current_plugin = impl.plugin_name
            record = self.plugins.get(impl.plugin_name)
            before = set(registry.names())
            try:
                impl.function(registry=registry)
            except Exception as exc:
                registry.discard(set(registry.names()) - before)
                if not isinstance(exc, PluginError):
                    exc = PluginError(
                        impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}"
                    )
                self._drop(impl.plugin_name, exc)
                continue
            if record is not None:
                added = sorted(set(registry.names()) - before)
                record.entries.extend(added)
                if added and registry.entry_type.family not in record.families:
                    record.families.append(registry.entry_type.family)
        registry.current_plugin = ""
        return registry

    def _drop(self, plugin_name: str, exc: PluginError) -> None:
        record = self.plugins.get(plugin_name) or LoadedPlugin(plugin_name, None, None, "error")
        exc.distribution = record.distribution
        plugin = self.pm.get_plugin(plugin_name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self._fail(record, exc)

    def _registry(self, hook_name: str, factory: Callable[[], R]) -> R:
        if hook_name not in self._registries:
            self._registries[hook_name] = self._build(hook_name, factory())
        return self._registries[hook_name]  # type: ignore[return-value]

    @property
    def sources(self) -> SourceRegistry:
        return self._registry("cryptolake_register_sources", SourceRegistry)

    @property
    def transforms(self) -> TransformRegistry:
        return self._registry("cryptolake_register_transforms", TransformRegistry)

    @property
    def quality(self) -> QualityRegistry:
        return self._registry("cryptolake_register_quality_suites", QualityRegistry)

    @property
    def models(self) -> ModelRegistry:
        return self._registry("cryptolake_register_models", ModelRegistry)

    def load_registries(self) -> None:
        """Build all four registries now, so registration errors surface at once."""
        for _ in (self.sources, self.transforms, self.quality, self.models):
            pass

    # -- calling -----------------------------------------------------------------------------

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin; one plugin's exception is logged, not raised."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                if self.strict:
                    raise
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    def errors(self) -> list[LoadedPlugin]:
        return [p for p in self.plugins.values() if p.status == "error"]

    def listing(self) -> list[LoadedPlugin]:
        self.load_registries()
        return sorted(self.plugins.values(), key=lambda p: p.name)


def build_plugin_manager(
    settings: Settings | None = None,
    *,
    autoload: bool | None = None,
    strict: bool | None = None,
    plugins: Sequence[object] | Iterable[object] = (),
) -> PluginHost:
    """Build a fresh :class:`PluginHost`.

    ``autoload`` (default ``settings.plugins.autoload``) discovers the ``cryptolake`` entry points;
    ``plugins`` are registered in addition, in order. ``strict`` (default
    ``settings.plugins.strict``) turns every load error into an exception.
    """
    settings = settings or get_settings()
    host = PluginHost(settings, strict=settings.plugins.strict if strict is None else strict)
    if settings.plugins.autoload if autoload is None else autoload:
        host.load_entry_points()
    for plugin in plugins:
        host.register(plugin)
    return host
