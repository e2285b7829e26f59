"""The ``cryptolake`` command line: one entry point, one sub-app per area.

:func:`main` builds a plugin host, then the app from it (:func:`build_app`); nothing is assembled
at import time.
"""

from __future__ import annotations

import sys
from typing import Any

from cryptolake.core.cli._app import build_app
from cryptolake.core.errors import ConfigError, CryptoLakeError, PluginError


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cryptolake`` console script: core commands plus the plugins' own.

    An expected error (a :class:`CryptoLakeError`: unknown source, bad configuration, a failed
    gate …) ends in one ``error: …`` line and a non-zero exit (2 for configuration and plugin
    errors, 1 otherwise); ``--debug`` (anywhere on the line) shows the traceback instead.
    """
    from cryptolake.core.manager import build_plugin_manager

    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    host = None
    try:
        host = build_plugin_manager(strict=False)
    except CryptoLakeError as exc:  # bad settings: reported by the root callback
        print(f"warning: plugin commands not loaded: {exc}", file=sys.stderr)
    try:
        build_app(host)(args=args, prog_name="cryptolake")
    except CryptoLakeError as exc:
        if debug:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        raise SystemExit(2 if isinstance(exc, (ConfigError, PluginError)) else 1) from None
    except ValueError as exc:  # pydantic validation outside the runner (plugin commands)
        if debug or type(exc).__name__ != "ValidationError":
            raise
        from cryptolake.core.cli._run import describe_validation

        print(f"error: {describe_validation(exc, 'the command')}", file=sys.stderr)
        raise SystemExit(2) from None


def _one_line(exc: CryptoLakeError) -> str:
    text = exc.reason if isinstance(exc, PluginError) and exc.plugin in exc.reason else str(exc)
    return " ".join(text.split())


def __getattr__(name: str) -> Any:
    if name == "app":  # the core's commands without plugins (for tests and docs)
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["build_app", "main"]
