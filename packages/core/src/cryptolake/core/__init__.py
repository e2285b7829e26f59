"""cryptolake-core: the public API plugins and sibling packages may import.

Everything a plugin needs is importable from here (or from the public sub-modules named in
docs/plugins.md); modules starting with ``_`` are private.
"""

from __future__ import annotations

from cryptolake.core._version import CORE_API_VERSION, __version__
from cryptolake.core.errors import (
    ConfigError,
    CryptoLakeError,
    PluginError,
    QualityGateFailed,
    RecordRejected,
    ServiceError,
    TerminalError,
    TransientError,
)
from cryptolake.core.jobs import CheckResult, Job, JobContext, JobResult, QualitySuite, run_job
from cryptolake.core.manager import LoadedPlugin, PluginHost, build_plugin_manager
from cryptolake.core.markers import hookimpl, hookspec
from cryptolake.core.registry import (
    EmptyConfig,
    ModelPlugin,
    ModelRegistry,
    PluginManifest,
    QualityRegistry,
    QualitySuitePlugin,
    SourcePlugin,
    SourceRegistry,
    TransformPlugin,
    TransformRegistry,
)
from cryptolake.core.settings import Settings, get_settings

__all__ = [
    "CORE_API_VERSION",
    "CheckResult",
    "ConfigError",
    "CryptoLakeError",
    "EmptyConfig",
    "Job",
    "JobContext",
    "JobResult",
    "LoadedPlugin",
    "ModelPlugin",
    "ModelRegistry",
    "PluginError",
    "PluginHost",
    "PluginManifest",
    "QualityGateFailed",
    "QualityRegistry",
    "QualitySuite",
    "QualitySuitePlugin",
    "RecordRejected",
    "ServiceError",
    "Settings",
    "SourcePlugin",
    "SourceRegistry",
    "TerminalError",
    "TransformPlugin",
    "TransformRegistry",
    "TransientError",
    "__version__",
    "build_plugin_manager",
    "get_settings",
    "hookimpl",
    "hookspec",
    "run_job",
]
