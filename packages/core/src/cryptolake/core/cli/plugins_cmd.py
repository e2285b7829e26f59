"""``cryptolake plugins list|check``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from cryptolake.core.errors import PluginError
from cryptolake.core.manager import build_plugin_manager

app = typer.Typer(help="Inspect and validate installed plugins.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Name, family, distribution, version, status and load error of every plugin."""
    host = build_plugin_manager(strict=False)
    rows = [p.as_dict() for p in host.listing()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "families", "entries", "distribution", "version", "status", "error")
    for r in rows:
        status = {"enabled": "[green]enabled[/]", "blocked": "[yellow]blocked[/]"}.get(
            r["status"], "[red]error[/]"
        )
        table.add_row(
            r["name"],
            ", ".join(r["families"]),
            ", ".join(r["entries"]),
            r["distribution"] or "-",
            r["version"] or "-",
            status,
            r["error"] or "",
        )
    Console().print(table)


@app.command("check")
def check_plugins() -> None:
    """Load and validate every installed plugin; exit 1 on any error."""
    try:
        host = build_plugin_manager(strict=False)
        host.load_registries()
    except PluginError as exc:  # pragma: no cover - strict is off, kept for safety
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    errors = host.errors()
    for p in host.listing():
        mark = {"enabled": "ok     ", "blocked": "blocked", "error": "ERROR  "}[p.status]
        detail = f": {p.error}" if p.error else ""
        dist = f" [{p.distribution}]" if p.distribution else ""
        typer.echo(f"{mark} {p.name}{dist}{detail}")
    if errors:
        typer.secho(f"{len(errors)} plugin(s) failed to load", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(host.plugins)} plugin(s) checked, no errors")
