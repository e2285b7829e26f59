"""The CryptoLake error hierarchy.

Every error says what failed, on which record, table or plugin, and what to do about it.

- :class:`ConfigError` — bad or missing configuration; fail fast at start-up.
- :class:`PluginError` — a plugin could not be loaded or validated.
- :class:`TransientError` — worth retrying (a service restarting, a 429); Celery retries with backoff.
- :class:`TerminalError` — retrying cannot help; the record goes to the dead-letter table.
- :class:`QualityGateFailed` — a quality gate refused to publish a layer.
"""

from __future__ import annotations

from collections.abc import Sequence


class CryptoLakeError(Exception):
    """Base class of every error CryptoLake raises on purpose."""


class ConfigError(CryptoLakeError):
    """Configuration is missing or invalid."""


class PluginError(CryptoLakeError):
    """A plugin failed to load or to validate.

    ``plugin`` is the plugin's name, ``distribution`` the Python distribution that provides it (or
    ``None`` for plugins registered in code), ``reason`` a short human-readable cause.
    """

    def __init__(self, plugin: str, reason: str, *, distribution: str | None = None) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.reason = reason
        where = f" (distribution {distribution})" if distribution else ""
        super().__init__(f"plugin {plugin!r}{where}: {reason}")


class TransientError(CryptoLakeError):
    """A failure that may succeed when retried."""


class TerminalError(CryptoLakeError):
    """A failure that retrying cannot fix."""


class RecordRejected(TerminalError):
    """One input record is malformed; it goes to the dead-letter table with ``reason``."""

    def __init__(self, source: str, reason: str, raw: str | bytes | None = None) -> None:
        self.source = source
        self.reason = reason
        self.raw = raw
        super().__init__(f"{source}: record rejected: {reason}")


class QualityGateFailed(CryptoLakeError):
    """A quality gate failed; the layer ``layer`` was not published."""

    def __init__(self, layer: str, failed_checks: Sequence[str]) -> None:
        self.layer = layer
        self.failed_checks = list(failed_checks)
        shown = ", ".join(self.failed_checks[:5])
        more = f" and {len(self.failed_checks) - 5} more" if len(self.failed_checks) > 5 else ""
        super().__init__(
            f"quality gate for layer {layer!r} failed: {shown}{more}; "
            "see `cryptolake quality report` for details"
        )


class ServiceError(CryptoLakeError):
    """A stack service could not be installed, started or reached.

    The message names the service, the cause and the fix in one line.
    """

    def __init__(self, service: str, cause: str, fix: str) -> None:
        self.service = service
        self.cause = cause
        self.fix = fix
        super().__init__(f"{service}: {cause} — fix: {fix}")
