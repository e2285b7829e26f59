"""Logging set-up: one call per entry point; context (run id, plugin, table) in contextvars.

Library code logs through ``logging.getLogger(__name__)``. :func:`configure` installs one handler:
human-readable on a terminal, JSON lines otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "cryptolake_log_context", default={}
)


@contextlib.contextmanager
def bind(**values: Any) -> Iterator[None]:
    """Add ``values`` (e.g. ``run_id``, ``plugin``, ``table``) to every record logged inside."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _context.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **getattr(record, "ctx", {}),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        ctx = getattr(record, "ctx", {})
        if ctx:
            base += "  [" + " ".join(f"{k}={v}" for k, v in ctx.items()) + "]"
        return base


REDACTED = "***"


class RedactingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes ``***`` for every secret value in a formatted record
    (message, arguments and traceback alike)."""

    def __init__(self, stream: Any, secrets: list[str]) -> None:
        super().__init__(stream)
        # longest first, so a secret containing another is masked whole
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: list[str]) -> str:
    from urllib.parse import quote

    for secret in secrets:
        text = text.replace(secret, REDACTED)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, REDACTED)  # as it appears in a URL
    return text


def _settings_secrets() -> list[str]:
    try:
        from cryptolake.core.settings import get_settings

        return get_settings().secret_values()
    except Exception:  # - logging must come up even with broken settings
        return []


def configure(level: str = "INFO", fmt: str = "auto", secrets: list[str] | None = None) -> None:
    """Install the CryptoLake handler on the root logger (idempotent).

    Every secret of the settings (or ``secrets``) is written as ``***``.
    """
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = RedactingHandler(sys.stderr, _settings_secrets() if secrets is None else secrets)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        JsonFormatter() if use_json else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.set_name("cryptolake")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "cryptolake":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
