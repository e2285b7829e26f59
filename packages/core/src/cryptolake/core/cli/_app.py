from __future__ import annotations

import importlib.util

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
from cryptolake.core.cli.commands import CommandRegistry
from cryptolake.core.errors import CryptoLakeError
from cryptolake.core.logging import configure
from cryptolake.core.settings import get_settings

app = typer.Typer(
    name="cryptolake",
    help="CryptoLake: crypto-market analytics lakehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cryptolake {__version__} (core API {CORE_API_VERSION})")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    try:
        settings = get_settings()
    except CryptoLakeError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    configure(settings.log.level, settings.log.format)


commands = CommandRegistry(app)
commands.add_core_group("plugins", plugins_cmd.app)
commands.add_core_group("config", config_cmd.app)
commands.add_core_group("ingest", ingest_cmd.app)
commands.add_core_group("transform", transform_cmd.app)
commands.add_core_group("pipeline", pipeline_cmd.app)
commands.add_core_group("lakehouse", lakehouse_cmd.app)
app.command("worker")(pipeline_cmd.worker)
app.command("beat")(pipeline_cmd.beat)
if importlib.util.find_spec("cryptolake.core.stack.cli") is not None:
    from cryptolake.core.stack import cli as stack_cli

    commands.add_core_group("stack", stack_cli.app)
