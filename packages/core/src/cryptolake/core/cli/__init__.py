"""The ``cryptolake`` command line: one entry point, one sub-app per area."""

from __future__ import annotations

import sys

from cryptolake.core.cli._app import app, commands
from cryptolake.core.errors import CryptoLakeError


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cryptolake`` console script: core commands plus the plugins' own."""
    from cryptolake.core.manager import build_plugin_manager

    try:
        commands.load_plugins(build_plugin_manager(strict=False))
    except CryptoLakeError as exc:  # bad settings: reported by the root callback
        print(f"warning: plugin commands not loaded: {exc}", file=sys.stderr)
    app(args=argv if argv is not None else sys.argv[1:], prog_name="cryptolake")


__all__ = ["app", "main"]
