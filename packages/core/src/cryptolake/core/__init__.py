"""cryptolake-core: the public API plugins and sibling packages may import.

Everything a plugin needs is importable from here (or from the public sub-modules named in
docs/plugins.md); modules starting with ``_`` are private.
"""

from __future__ import annotations

from cryptolake.core._version import CORE_API_VERSION, __version__
from cryptolake.core.commands import CommandRegistry
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
from cryptolake.core.jobs import Host, Job, JobContext, QualitySuite, StreamingTransform, run_job
from cryptolake.core.manager import LoadedPlugin, PluginHost, build_plugin_manager
from cryptolake.core.markers import hookimpl, hookspec
from cryptolake.core.registry import (
    EmptyConfig,
    Entry,
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
from cryptolake.core.results import OUTCOMES, CheckResult, JobResult, Outcome
from cryptolake.core.settings import Settings, get_settings
from cryptolake.core.tables import (
    COLUMN_TYPES,
    Column,
    PartitionField,
    TableContract,
    TableRegistry,
    ensure_table,
)

__all__ = [
    "COLUMN_TYPES",
    "CORE_API_VERSION",
    "OUTCOMES",
    "CheckResult",
    "Column",
    "CommandRegistry",
    "ConfigError",
    "CryptoLakeError",
    "EmptyConfig",
    "Entry",
    "Host",
    "Job",
    "JobContext",
    "JobResult",
    "LoadedPlugin",
    "ModelPlugin",
    "ModelRegistry",
    "Outcome",
    "PartitionField",
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
    "StreamingTransform",
    "TableContract",
    "TableRegistry",
    "TerminalError",
    "TransformPlugin",
    "TransformRegistry",
    "TransientError",
    "__version__",
    "build_plugin_manager",
    "ensure_table",
    "get_settings",
    "hookimpl",
    "hookspec",
    "run_job",
]
