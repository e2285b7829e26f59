"""Building the ``cryptolake`` command line: the core's groups, then the plugins' commands.

Nothing is assembled at import time: :func:`build_app` makes a fresh root app (with fresh copies
of the core's groups, so plugin commands never accumulate in module state) each time it is called.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import typer

from cryptolake.core._version import CORE_API_VERSION, __version__
from cryptolake.core.cli import (
    config_cmd,
    ingest_cmd,
    lakehouse_cmd,
    pipeline_cmd,
    plugins_cmd,
    transform_cmd,
)
from cryptolake.core.commands import CommandRegistry
from cryptolake.core.errors import CryptoLakeError
from cryptolake.core.logging import configure
from cryptolake.core.settings import get_settings

if TYPE_CHECKING:
    from cryptolake.core.manager import PluginHost


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cryptolake {__version__} (core API {CORE_API_VERSION})")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an error (allowed anywhere on the line)."
    ),
) -> None:
    try:
        settings = get_settings()
    except CryptoLakeError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    configure(settings.log.level, settings.log.format)


def _copy(group: typer.Typer) -> typer.Typer:
    """A copy of a core group whose command lists are its own."""
    new = copy.copy(group)
    new.registered_commands = list(group.registered_commands)
    new.registered_groups = list(group.registered_groups)
    return new


def _missing_extra(app: typer.Typer, name: str, extra: str, error: ImportError) -> None:
    """``cryptolake NAME ...`` says which extra to install instead of failing on an import."""

    @app.command(
        name,
        help=f"(not installed: needs the {extra!r} extra of cryptolake-core)",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def _needs(ctx: typer.Context) -> None:
        typer.secho(
            f"error: `cryptolake {name}` needs the {extra!r} extra ({error}); install it with: "
            f"pip install 'cryptolake-core[{extra}]'",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)


def build_app(host: PluginHost | None = None) -> typer.Typer:
    """The root ``cryptolake`` app: the core's groups, plus ``host``'s plugins' commands."""
    app = typer.Typer(
        name="cryptolake",
        help="CryptoLake: crypto-market analytics lakehouse.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    commands = CommandRegistry(app)
    commands.add_core_group("plugins", _copy(plugins_cmd.app))
    commands.add_core_group("config", _copy(config_cmd.app))
    commands.add_core_group("ingest", _copy(ingest_cmd.app))
    commands.add_core_group("transform", _copy(transform_cmd.app))
    commands.add_core_group("pipeline", _copy(pipeline_cmd.app))
    commands.add_core_group("lakehouse", _copy(lakehouse_cmd.app))
    app.command("worker")(pipeline_cmd.worker)
    app.command("beat")(pipeline_cmd.beat)
    try:
        from cryptolake.core.stack import cli as stack_cli
    except ImportError as exc:  # the light core: no `stack` extra installed
        _missing_extra(app, "stack", "stack", exc)
    else:
        commands.add_core_group("stack", _copy(stack_cli.app))
    if host is not None:
        host.register_commands(commands)
    return app
