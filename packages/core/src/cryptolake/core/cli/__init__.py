"""The ``cryptolake`` command line: one entry point, one sub-app per area.

:func:`main` builds a plugin host, then the app from it (:func:`build_app`); nothing is assembled
at import time.
"""

from __future__ import annotations

import sys
from typing import Any

from cryptolake.core.cli._app import build_app
from cryptolake.core.errors import CryptoLakeError


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cryptolake`` console script: core commands plus the plugins' own."""
    from cryptolake.core.manager import build_plugin_manager

    host = None
    try:
        host = build_plugin_manager(strict=False)
    except CryptoLakeError as exc:  # bad settings: reported by the root callback
        print(f"warning: plugin commands not loaded: {exc}", file=sys.stderr)
    build_app(host)(args=argv if argv is not None else sys.argv[1:], prog_name="cryptolake")


def __getattr__(name: str) -> Any:
    if name == "app":  # the core's commands without plugins (for tests and docs)
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["build_app", "main"]
