from __future__ import annotations

import typer

from cryptolake.core._version import CORE_API_VERSION, __version__
from cryptolake.core.cli import config_cmd, plugins_cmd
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


app.add_typer(plugins_cmd.app, name="plugins")
app.add_typer(config_cmd.app, name="config")
