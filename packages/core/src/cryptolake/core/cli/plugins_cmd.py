"""``cryptolake plugins list|check``."""

from __future__ import annotations

import json

import typer

from cryptolake.core.cli.output import count, key, notes, print_table, report_table
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
    # one row per plugin; its entries (often many, with long names) listed beneath the table
    table = report_table(key("plugin"), key("version"), key("status"), key("families"),
                         count("entries"))
    errors: list[str] = []
    entries: list[str] = []
    for r in rows:
        status = {"enabled": "[green]enabled[/]", "blocked": "[yellow]blocked[/]"}.get(
            r["status"], "[red]error[/]"
        )
        table.add_row(
            r["name"], r["version"] or "-", status, ",".join(r["families"]) or "-",
            str(len(r["entries"])),
        )
        if r["error"]:
            errors.append(f"[red]{r['name']}:[/] {r['error']}")
        if r["entries"]:
            dist = f" [dim]({r['distribution']})[/]" if r["distribution"] else ""
            entries.append(f"[bold]{r['name']}[/]{dist}: {', '.join(r['entries'])}")
    print_table(table, notes([*errors, "", *entries]))


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
