"""The ``cryptolake`` command line: one entry point, one sub-app per area."""

from __future__ import annotations

import sys

from cryptolake.core.cli._app import app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cryptolake`` console script."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="cryptolake")


__all__ = ["app", "main"]
