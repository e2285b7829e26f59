"""The plugin host: discovers, validates and calls plugins. No global instance.

:func:`build_plugin_manager` returns a :class:`PluginHost`; the CLI, the API, the workers and the
tests each build their own. Plugins come from the ``cryptolake`` entry-point group — the built-in
ones exactly like third-party ones — and from the ``plugins`` argument.

Validation on load: the object must carry a :class:`~cryptolake.core.registry.PluginManifest` in
``CRYPTOLAKE_PLUGIN``, its name must be unique, its ``core_api`` range must include
:data:`~cryptolake.core._version.CORE_API_VERSION`, and every ``cryptolake_*`` hook it implements
must match a spec (``check_pending``), and none may be a wrapper (``wrapper=True`` /
``hookwrapper=True``: the host calls each implementation itself, so a wrapper would silently never
run). A plugin that fails is recorded with the reason and skipped — unless strict mode is on, when
the error is raised.

Call sites reach hooks only through the host's typed methods (the tox 4 style): registries
(:attr:`PluginHost.tables`, :attr:`~PluginHost.sources`, …), :meth:`~PluginHost.register_commands`,
the lifecycle events (:meth:`~PluginHost.before_job`, :meth:`~PluginHost.batch_committed`, …) and
the first-result questions (:meth:`~PluginHost.detect_layout`, :meth:`~PluginHost.select_champion`).
Every one calls each plugin's implementation apart: an implementation that raises is logged with
the plugin's name and the others still run (registration hooks: the plugin is dropped instead).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

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
from cryptolake.core.tables import TableRegistry

if TYPE_CHECKING:
    from cryptolake.core.commands import CommandRegistry
    from cryptolake.core.hookspecs.api import ApiFieldRegistry
    from cryptolake.core.jobs import JobContext
    from cryptolake.core.results import CheckResult, JobResult

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cryptolake"
MANIFEST_ATTR = "CRYPTOLAKE_PLUGIN"

Status = Literal["enabled", "blocked", "error"]

#: The typed method (or registry property) of :class:`PluginHost` that calls each hook — the only
#: way code reaches a hook. A meta test checks every declared hook is here and tested through it.
HOOK_CALLERS: dict[str, str] = {
    "cryptolake_register_tables": "tables",
    "cryptolake_register_sources": "sources",
    "cryptolake_register_transforms": "transforms",
    "cryptolake_register_quality_suites": "quality",
    "cryptolake_register_models": "models",
    "cryptolake_register_commands": "register_commands",
    "cryptolake_register_api_fields": "register_api_fields",
    "cryptolake_detect_layout": "detect_layout",
    "cryptolake_select_champion": "select_champion",
    "cryptolake_before_job": "before_job",
    "cryptolake_after_job": "after_job",
    "cryptolake_on_job_error": "on_job_error",
    "cryptolake_batch_committed": "batch_committed",
    "cryptolake_quality_gate_failed": "quality_gate_failed",
    "cryptolake_model_promoted": "model_promoted",
}
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
    #: Identifiers of the tables the plugin declared (``cryptolake_register_tables``).
    tables: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "families": self.families,
            "entries": self.entries,
            "tables": self.tables,
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
        self._tables: TableRegistry | None = None

    # -- loading -----------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        """The raw pluggy hook relay. Deprecated: call the typed methods of the host instead
        (they isolate one plugin's failure from the others)."""
        warnings.warn(
            "PluginHost.hook is deprecated; call the host's typed methods (host.detect_layout(), "
            "host.batch_committed(), …)",
            DeprecationWarning,
            stacklevel=2,
        )
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
                self._refuse_wrappers(plugin, manifest.name)
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

    def _refuse_wrappers(self, plugin: object, name: str) -> None:
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or getattr(impl, "wrapper", False)):
                    raise pluggy.PluginValidationError(
                        plugin,
                        f"{caller.name} is a wrapper (wrapper=True/hookwrapper=True); CryptoLake "
                        f"calls each implementation itself, so wrappers are not supported: "
                        f"drop the option and implement the hook plainly",
                    )

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
        _ = self.tables  # first: a plugin whose tables are refused registers nothing else
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
    def tables(self) -> TableRegistry:
        """The core's table contracts and every plugin's (``cryptolake_register_tables``)."""
        if self._tables is None:
            self._tables = TableRegistry.with_builtins()
            for impl in self._impls("cryptolake_register_tables"):
                self._tables.current_plugin = impl.plugin_name
                before = set(self._tables.identifiers())
                try:
                    impl.function(tables=self._tables)
                except Exception as exc:
                    self._tables.discard(set(self._tables.identifiers()) - before)
                    if not isinstance(exc, PluginError):
                        exc = PluginError(
                            impl.plugin_name,
                            f"cryptolake_register_tables raised {type(exc).__name__}: {exc}",
                        )
                    self._drop(impl.plugin_name, exc)
                    continue
                record = self.plugins.get(impl.plugin_name)
                if record is not None:
                    added = sorted(set(self._tables.identifiers()) - before)
                    record.tables.extend(added)
            self._tables.current_plugin = ""
        return self._tables

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
        """Build the table registry and all four family registries now, so registration errors
        surface at once."""
        for _ in (self.tables, self.sources, self.transforms, self.quality, self.models):
            pass

    # -- calling: one typed method per hook ----------------------------------------------------

    def _impls(self, hook_name: str) -> list[Any]:
        """The implementations of ``hook_name`` in pluggy's call order (LIFO, tryfirst/trylast)."""
        return list(reversed(getattr(self.pm.hook, hook_name).get_hookimpls()))

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation; one plugin's exception is logged, never raised."""
        for impl in self._impls(hook_name):
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                log.exception("plugin %s failed in %s (ignored)", impl.plugin_name, hook_name)

    def _first_result(self, hook_name: str, **kwargs: Any) -> Any:
        """The first non-``None`` result; a plugin that raises is logged and skipped."""
        for impl in self._impls(hook_name):
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                log.exception("plugin %s failed in %s (skipped)", impl.plugin_name, hook_name)
                continue
            if result is not None:
                return result
        return None

    def register_commands(self, commands: CommandRegistry) -> None:
        """``cryptolake_register_commands``: let every plugin add its sub-commands, then mount the
        new groups. A plugin that raises is logged and skipped."""
        self._notify("cryptolake_register_commands", commands=commands)
        commands.mount_new_groups()

    def register_api_fields(self, registry: ApiFieldRegistry) -> None:
        """``cryptolake_register_api_fields``: let every plugin add its GraphQL fields.

        ``registry.current_plugin`` is set to each plugin's name while it runs (when the registry
        has that attribute); a plugin that raises is logged, and ``registry.discard_plugin(name)``
        (when the registry has it) drops what it added.
        """
        for impl in self._impls("cryptolake_register_api_fields"):
            if hasattr(registry, "current_plugin"):
                setattr(registry, "current_plugin", impl.plugin_name)  # noqa: B010
            try:
                impl.function(registry=registry)
            except Exception:
                discard = getattr(registry, "discard_plugin", None)
                if callable(discard):
                    discard(impl.plugin_name)
                log.exception("plugin %s failed in cryptolake_register_api_fields (its fields "
                              "are left out)", impl.plugin_name)
        if hasattr(registry, "current_plugin"):
            setattr(registry, "current_plugin", "")  # noqa: B010

    def before_job(self, job: JobContext) -> None:
        """``cryptolake_before_job``."""
        self._notify("cryptolake_before_job", job=job)

    def after_job(self, job: JobContext, result: JobResult) -> None:
        """``cryptolake_after_job``."""
        self._notify("cryptolake_after_job", job=job, result=result)

    def on_job_error(self, job: JobContext, error: BaseException) -> None:
        """``cryptolake_on_job_error``."""
        self._notify("cryptolake_on_job_error", job=job, error=error)

    def batch_committed(self, table: str, snapshot_id: int | None, rows: int, source: str) -> None:
        """``cryptolake_batch_committed``."""
        self._notify(
            "cryptolake_batch_committed", table=table, snapshot_id=snapshot_id, rows=rows,
            source=source,
        )

    def quality_gate_failed(self, layer: str, results: Sequence[CheckResult]) -> None:
        """``cryptolake_quality_gate_failed``."""
        self._notify("cryptolake_quality_gate_failed", layer=layer, results=results)

    def model_promoted(self, model: str, version: str, metrics: dict[str, float]) -> None:
        """``cryptolake_model_promoted``."""
        self._notify("cryptolake_model_promoted", model=model, version=version, metrics=metrics)

    def detect_layout(self, path: Path, head: bytes) -> str | None:
        """``cryptolake_detect_layout``: the first plugin that names the layout wins."""
        result = self._first_result("cryptolake_detect_layout", path=path, head=head)
        return None if result is None else str(result)

    def select_champion(
        self, target: str, candidates: Sequence[Mapping[str, object]]
    ) -> str | None:
        """``cryptolake_select_champion``: the first plugin that picks a champion wins; ``None``
        leaves the host's default rule."""
        result = self._first_result(
            "cryptolake_select_champion", target=target, candidates=candidates
        )
        return None if result is None else str(result)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Deprecated: call the typed method of the hook (``host.quality_gate_failed(...)``)."""
        warnings.warn(
            f"PluginHost.notify({hook_name!r}) is deprecated; call the host's typed method",
            DeprecationWarning,
            stacklevel=2,
        )
        self._notify(hook_name, **kwargs)

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
