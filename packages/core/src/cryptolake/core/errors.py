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


#: Exception class names (anywhere in an error's class hierarchy) that mean "a service we talk
#: to was unreachable or went away", by name so that the core imports none of their libraries:
#: SQLAlchemy / psycopg (the catalog's PostgreSQL), botocore and urllib3 (the S3 store), redis-py,
#: requests (Trino's client), and Iceberg's optimistic-commit conflict.
TRANSIENT_CLASS_NAMES = frozenset({
    "OperationalError",  # sqlalchemy.exc / psycopg2: connection refused, server closed, starting up
    "InterfaceError",  # psycopg2: connection already closed
    "DisconnectionError",  # sqlalchemy.exc
    "EndpointConnectionError",  # botocore: S3 unreachable
    "ConnectionClosedError",  # botocore
    "ReadTimeoutError",  # botocore / urllib3
    "ConnectTimeoutError",  # botocore / urllib3
    "NewConnectionError",  # urllib3
    "ProtocolError",  # urllib3: connection aborted mid-response
    "CommitFailedException",  # pyiceberg: another writer committed first; reload and retry
})
#: Words in an error's text that mean the same when it crossed a process boundary as a string
#: (a Spark job's Java exception, a Trino query error, a dbt log line).
TRANSIENT_MESSAGES = (
    "connection refused",
    "connection reset",
    "server closed the connection unexpectedly",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "broken pipe",
    "the postmaster is accepting tcp/ip connections",  # PostgreSQL's JDBC driver (Spark)
    "unable to execute http request",  # the AWS SDK in Spark: S3 unreachable
    "no nodes available to run query",  # Trino restarting: its worker not registered yet
    "trino server is still initializing",
    "server is starting",
)


def transient_cause(exc: BaseException) -> str | None:
    """Why ``exc`` (or an error it was raised from / while handling) is worth retrying: a
    service we depend on was unreachable or restarting. ``None`` for anything else — bad data,
    bad configuration, a failed gate and our own bugs are never retried.

    A :class:`TerminalError`, :class:`ConfigError` or :class:`QualityGateFailed` anywhere on the
    chain wins: it is the verdict of code that knew better."""
    seen: set[int] = set()
    found: str | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TerminalError | QualityGateFailed | ConfigError):
            return None
        if found is None:
            names = {c.__name__ for c in type(current).__mro__}
            if (
                isinstance(current, TransientError | ConnectionError | TimeoutError)
                or names & TRANSIENT_CLASS_NAMES
                or "ConnectionError" in names
            ):
                found = f"{type(current).__name__}: {current}"
            else:
                text = str(current).lower()
                if any(m in text for m in TRANSIENT_MESSAGES):
                    found = f"{type(current).__name__}: {current}"
        current = current.__cause__ or current.__context__
    return found
